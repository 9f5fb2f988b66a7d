import type { ActionFailure } from '@sveltejs/kit';
import { error, fail, redirect } from '@sveltejs/kit';
import type { z } from 'zod';
import { codeOf, messageOf, statusOf } from './coordinator';

/**
 * Runs a coordinator call for a load function and turns its failure into the page's status:
 * 401 → login, 403 and 404 as they are, no answer → 502 (the error page says the coordinator is
 * unreachable), anything else → 500 with the coordinator's message.
 */
export async function loadOr<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const status = statusOf(err);
    if (status === 401) redirect(303, '/login');
    if (status === 403 || status === 404) error(status, messageOf(err));
    if (status === 0) error(502, 'The coordinator is not reachable right now.');
    error(500, messageOf(err));
  }
}

/** What a form action returns when input is refused: the field at fault and why. */
export type FieldFailure = ActionFailure<{ field: string; message: string }>;

/**
 * Parses a form with a zod schema; the first problem becomes `fail(400, { field, message })`.
 * Strings are taken as sent; `list` fields collect every value of a repeated name (checkboxes).
 */
export async function parseForm<S extends z.ZodType>(
  request: Request,
  schema: S,
  lists: readonly string[] = [],
): Promise<{ ok: true; data: z.infer<S> } | { ok: false; failure: FieldFailure }> {
  const form = await request.formData();
  const raw: Record<string, unknown> = {};
  for (const key of new Set(form.keys())) {
    const values = form.getAll(key).map((v) => (typeof v === 'string' ? v : ''));
    raw[key] = lists.includes(key) ? values : values[0];
  }
  for (const key of lists) raw[key] ??= [];
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, data: parsed.data };
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'form';
  return { ok: false, failure: fail(400, { field, message: issue.message }) };
}

/** A form action's coordinator call: its value, or the failure the action returns as is. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; failure: FieldFailure };

/**
 * Runs a coordinator call for a form action. Refused input (400, 409) becomes
 * `fail(400, { field, message })`, with the field the coordinator named (`field: message`)
 * or `fallbackField`; permissions and outages become the page's error.
 *
 * @example
 * const r = await actionOr(() => c.members.approve.mutate({ memberId }), 'memberId');
 * if (!r.ok) return r.failure;
 */
export async function actionOr<T>(
  call: () => Promise<T>,
  fallbackField: string,
): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    const status = statusOf(err);
    const message = messageOf(err);
    if (status === 400 || status === 409) {
      // Schema errors name the field (`memberId: …`); the coordinator's own errors carry a code.
      const m = codeOf(err) ? null : /^([\w.]+): (.*)$/s.exec(message);
      return {
        ok: false,
        failure: fail(
          400,
          m ? { field: m[1]!, message: m[2]! } : { field: fallbackField, message },
        ),
      };
    }
    if (status === 401) redirect(303, '/login');
    if (status === 403 || status === 404) error(status, message);
    if (status === 0) error(502, 'The coordinator is not reachable right now.');
    error(500, message);
  }
}
