import type { SubmitFunction } from '@sveltejs/kit';

/**
 * A `use:enhance` submit function that reports the submission in flight (to disable the button
 * and say "Starting…"), then applies the action's result as SvelteKit does by default.
 *
 * @example
 * <form method="POST" use:enhance={pending((v) => (starting = v))}>
 */
export function pending(set: (busy: boolean) => void): SubmitFunction {
  return () => {
    set(true);
    return async ({ update }) => {
      await update();
      set(false);
    };
  };
}
