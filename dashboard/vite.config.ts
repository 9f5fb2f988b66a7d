import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [sveltekit()],
  server: { host: '127.0.0.1', strictPort: false, fs: { allow: ['..'] } },
  // Dependencies are pre-bundled up front and never discovered on the fly: a discovery triggers a
  // full page reload in the middle of a session (a half-filled form lost, a flaky browser test).
  optimizeDeps: { noDiscovery: true, include: ['chart.js/auto'] },
});
