import type { SessionUser } from '$lib/server/session';

declare global {
  namespace App {
    interface Locals {
      /** Who is logged in (checked against the coordinator on every request), or null. */
      user: SessionUser | null;
      /** The coordinator session token from the httpOnly cookie (server side only). */
      token: string | null;
    }
    interface Error {
      message: string;
    }
  }
}

export {};
