import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KeyPair } from '@coopfl/protocol';
import { identityKeyPair, sha256 } from '@coopfl/protocol';

/**
 * The coordinator's own Ed25519 key: it signs tasks and model weights so that a node can check
 * them against the fingerprint its invite carried, even behind a TLS-terminating proxy.
 * The 32-byte seed is kept in a file readable by the owner only.
 */
export async function loadOrCreateKey(path: string): Promise<KeyPair> {
  if (path === 'memory') return identityKeyPair();
  try {
    const hex = (await readFile(path, 'utf8')).trim();
    if (!/^[0-9a-f]{64}$/.test(hex))
      throw new Error(`key file ${path} does not hold a 32-byte hex seed`);
    return identityKeyPair(Uint8Array.from(Buffer.from(hex, 'hex')));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const seed = new Uint8Array(32);
  crypto.getRandomValues(seed);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${Buffer.from(seed).toString('hex')}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return identityKeyPair(seed);
}

/** Short fingerprint of a public key, carried in invites: hex of the first 16 bytes of SHA-256. */
export function fingerprint(publicKey: Uint8Array): string {
  return Buffer.from(sha256(publicKey).subarray(0, 16)).toString('hex');
}
