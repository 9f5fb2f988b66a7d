import { defineConfig } from 'drizzle-kit';

/**
 * drizzle-kit reads the node's schema (`shop` + `coopfl`) and writes SQL migrations into
 * `./drizzle` (`pnpm db:generate`). Generation needs no database; `openStore` applies them.
 */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/store/schema.ts',
  out: './drizzle',
  strict: true,
  verbose: true,
});
