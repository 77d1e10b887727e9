import { basename } from 'node:path';
import { createRequire } from 'node:module';
import { expect } from 'vitest';

/**
 * The namespace of the running test file on a shared database server: a PostgreSQL schema or a
 * MariaDB/MySQL database named after the file, so that no two suites ever see each other's tables.
 */
export function suiteNamespace(): string {
  const file = basename(expect.getState().testPath ?? 'unknown').replace(/\.test\.ts$/, '');
  return `sh_${file.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}`.slice(0, 60);
}

const require = createRequire(import.meta.url);

/** Creates the PostgreSQL schema `name` if it is missing. */
export async function ensurePostgresSchema(url: string, name: string): Promise<void> {
  const { Client } = require('pg') as {
    Client: new (options: { connectionString: string }) => { connect(): Promise<void>; query(sql: string): Promise<unknown>; end(): Promise<void> };
  };
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${name}"`);
  } finally {
    await client.end();
  }
}

/** Creates the MariaDB/MySQL database `name` if it is missing. */
export async function ensureMysqlDatabase(url: string, name: string): Promise<void> {
  const mysql = require('mysql2/promise') as typeof import('mysql2/promise');
  const connection = await mysql.createConnection(url);
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await connection.end();
  }
}
