import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { redactTarget } from './open';

export interface TemporaryDatabase {
  /** The URL of the new database, with the credentials of the base URL. */
  readonly url: string;
  /** Drops the database, ending any connections still open to it. */
  drop(): Promise<void>;
}

/**
 * Creates a uniquely named database (`coopfl_tmp_<random>`) on the server of `baseUrl`.
 *
 * @example
 * const tmp = await createTemporaryDatabase(process.env.DATABASE_URL!);
 * const { db, close } = await openDrizzle(tmp.url, options);
 * // … then: await close(); await tmp.drop();
 */
export async function createTemporaryDatabase(baseUrl: string): Promise<TemporaryDatabase> {
  const name = `coopfl_tmp_${randomBytes(8).toString('hex')}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } catch (cause) {
    await admin.end({ timeout: 5 });
    throw new Error(`cannot create a test database on ${redactTarget(baseUrl)}`, { cause });
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    drop: () =>
      (dropped ??= (async () => {
        try {
          await admin.unsafe(`drop database if exists "${name}" with (force)`);
        } finally {
          await admin.end({ timeout: 5 });
        }
      })()),
  };
}
