import { berthVitestConfig } from "../../vitest.shared.ts";

export default berthVitestConfig({
  integrationSetup: ["./src/testing/postgres-global-setup.ts"],
});
