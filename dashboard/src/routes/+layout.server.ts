import type { LayoutServerLoad } from './$types';

/** Who is logged in, for the navigation (role and id only; never the token). */
export const load = (({ locals }) => ({
  user: locals.user ? { id: locals.user.id, role: locals.user.role } : null,
})) satisfies LayoutServerLoad;
