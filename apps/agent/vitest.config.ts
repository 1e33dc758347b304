import { berthVitestConfig } from "../../vitest.shared.ts";

export default berthVitestConfig();
