import { defineConfig } from "vitest/config";

/**
 * One vitest layout for every workspace: `unit` runs beside-the-code tests that need neither root
 * nor Postgres; `integration` runs `*.integration.test.ts`, which use the real kernel or server.
 */
export function berthVitestConfig(options: { integrationSetup?: string[] } = {}) {
  return defineConfig({
    test: {
      // A package may hold only one kind of test (or none yet).
      passWithNoTests: true,
      projects: [
        {
          test: {
            name: "unit",
            include: ["src/**/*.test.ts"],
            exclude: ["src/**/*.integration.test.ts", "**/node_modules/**"],
          },
        },
        {
          test: {
            name: "integration",
            include: ["src/**/*.integration.test.ts"],
            globalSetup: options.integrationSetup ?? [],
            testTimeout: 120_000,
            hookTimeout: 120_000,
            fileParallelism: false,
          },
        },
      ],
    },
  });
}
