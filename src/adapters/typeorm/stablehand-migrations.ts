import { AddStablehandOwnership1764600000000 } from './add-stablehand-ownership.js';
import { AddStablehandRetries1765000000000 } from './add-stablehand-retries.js';
import { CreateStablehandTables1732000000000 } from './create-stablehand-tables.js';
import { AddStablehandConsole1766000000000 } from './add-stablehand-console.js';

/**
 * Every migration of the bundled tables, oldest first: give it to the DataSource's `migrations`
 * (`migrations: [...stablehandMigrations, ...yours]`), and new versions' migrations come with it.
 */
export const stablehandMigrations = [
  CreateStablehandTables1732000000000, AddStablehandOwnership1764600000000, AddStablehandRetries1765000000000,
  AddStablehandConsole1766000000000,
];
