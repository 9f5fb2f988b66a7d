import type { Database } from '../db';
import { auditLog } from '../db';

/** Appends to the audit log (who did what to whom); details never hold secrets or vectors. */
export async function audit(
  db: Pick<Database, 'insert'>,
  actor: string,
  action: string,
  subject: string | null,
  details: Record<string, unknown> = {},
): Promise<void> {
  await db.insert(auditLog).values({ actor, action, subject, details });
}
