import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter(),
    // Forms post to the same origin; the dev server and the demo listen on 127.0.0.1 only.
    csrf: { trustedOrigins: [] },
    // The dev-server starter (used by `pnpm demo` and the browser tests) is type-checked too.
    typescript: {
      config: (c) => {
        c.include.push('../dev-server.ts');
      },
    },
  },
};

export default config;
