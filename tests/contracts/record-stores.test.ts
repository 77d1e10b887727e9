import { consoleStoreContract } from './console-store.contract.js';
import { recordStoreContract } from './record-store.contract.js';
import { storeFixtures } from './store-fixtures.js';

for (const fixture of storeFixtures()) {
  if (fixture.skipReason) console.warn(`[stablehand tests] ${fixture.skipReason}`);
  recordStoreContract(fixture);
  consoleStoreContract(fixture);
}
