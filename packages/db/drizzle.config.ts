import { defineConfig } from "drizzle-kit";

// `npm run generate -w @berth/db` writes a new migration into drizzle/ after a schema change;
// commit the SQL and meta/ together. No database connection is needed to generate.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema/index.ts",
  out: "./drizzle",
  strict: true,
  verbose: true,
});
