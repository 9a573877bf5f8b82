// Lint settings for the whole repository: typescript-eslint's strict type-checked rules on every
// TypeScript file (sources, tests, examples), the plain recommended rules on JavaScript files.
// `pnpm lint` builds first, because type-aware rules read sibling packages' declarations in dist/.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["**/dist/**", "**/node_modules/**", "**/.turbo/**", "**/coverage/**", "apps/bench/results/**"],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // Named although strict-type-checked has it: the quality gate promises it.
      "@typescript-eslint/no-floating-promises": "error",
      // Public functions check arguments from untyped JavaScript callers and the wire, and state
      // re-read after an await may have changed: the types call both impossible, the code must not.
      "@typescript-eslint/no-unnecessary-condition": "off",
      // noUncheckedIndexedAccess types every index read as possibly undefined; `xs[i]!` inside a
      // checked bound is this codebase's idiom.
      "@typescript-eslint/no-non-null-assertion": "off",
      // Re-rejecting a caught `unknown` passes the original error on unchanged.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingUnknown: true }],
      // Numbers in messages and ids (`doc-${n}`) are the norm; objects and unions with them are not.
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      // A `let` read by a callback before its one assignment (the callback runs later) cannot be const.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
      // `() => resolve()` shorthand callbacks that return a void call are the idiom of this codebase.
      "@typescript-eslint/no-confusing-void-expression": ["error", { ignoreArrowShorthand: true }],
      // `_name` marks a parameter kept to show a callback's shape.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["**/*.test.ts", "**/test/**/*.ts", "**/test-support/**/*.ts", "**/*.test-helper.ts", "packages/testing/src/**/*.ts"],
    rules: {
      // Fakes implement async interfaces without awaiting anything.
      "@typescript-eslint/require-await": "off",
      // Vitest takes method references (`expect(obj.method)`), and fixtures are destructured.
      "@typescript-eslint/unbound-method": "off",
      // Vitest's asymmetric matchers (`expect.any`, `expect.stringMatching`) are typed `any`.
      "@typescript-eslint/no-unsafe-assignment": "off",
    },
  },
  {
    // Examples are type-checked by the demo's examples project, which maps package names to src/.
    files: ["examples/**/*.ts", "packages/*/examples/**/*.ts"],
    languageOptions: {
      globals: { ...globals.node, ...globals.browser },
      parserOptions: {
        projectService: false,
        project: ["apps/demo/tsconfig.examples.json"],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs", "**/*.d.mts", "**/vitest.config.ts", "vitest.shared.ts"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ["apps/demo/src/browser/**", "**/*.browser.ts", "packages/codemirror/test/browser/**"],
    languageOptions: { globals: { ...globals.browser } },
  },
);
