// ESLint for the Pulumi program, its tests, the offline verifiers and the policy pack.
// Type-aware (one TypeScript program from tsconfig.json, the same one `npm run build` checks),
// so Output-in-template-literal and promise mistakes are found before a preview.
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["bin/", "render/", "node_modules/", "policy/node_modules/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked.map((c) => ({ ...c, files: ["**/*.ts", "**/*.mts"] })),
  {
    files: ["**/*.ts", "**/*.mts"],
    languageOptions: {
      parserOptions: { project: "./tsconfig.json", tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    plugins: { pulumi },
    rules: {
      // `${output}` renders "Calling [toString] on an [Output<T>] is not supported": use pulumi.interpolate.
      "pulumi/no-output-in-template-literal": "error",
      "pulumi/no-output-instance-in-template-literal": "error",
      // A dropped promise in a Pulumi program is a resource registered after the engine stopped
      // listening, or a test that passes before its assertions run.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-explicit-any": "error",
      // `_`-prefixed parameters are the documented way to ignore an argument of a callback.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
    },
  },
  {
    // Tests, verifiers and the policy pack read rendered manifests, Helm values, mock inputs and
    // the engine's resource props (typed `any` by @pulumi/policy itself): untyped JSON/YAML by
    // nature, walked with `any` on purpose (typing every upstream chart would restate it).
    // The program itself (index.ts, components/) keeps `any` an error so no untyped value leaks
    // into resource inputs or a component's public surface.
    files: ["tests/**/*.ts", "verify/**/*.ts", "scripts/**/*.ts", "policy/**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  {
    // Mocha loads every test file before it runs a test: whatever throws then (a root-level hook, or a
    // stack file read at load time) aborts the whole suite with "0 passing", and a broken stack file
    // must instead fail the tests that read it, by name. So hooks live inside a describe, and the
    // stack files are read inside tests and hooks, not at module scope or in a describe's body.
    files: ["tests/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector:
            "Program > ExpressionStatement > CallExpression[callee.name=/^(before|after|beforeEach|afterEach)$/]",
          message:
            "A root-level hook runs for the whole suite: when it throws (e.g. on a broken stack file), mocha aborts every test. Put it inside the describe that needs it, or compute the value lazily in the tests.",
        },
        {
          selector:
            "CallExpression[callee.name=/^(stackConfig|cloneStackConfig|readStackConfig|configProblems|runStack|runProgram)$/]:not(:function:not(CallExpression:matches([callee.name=/^(describe|context)$/], [callee.object.name=/^(describe|context)$/]) > :function) CallExpression)",
          message:
            "This reads a stack file while mocha loads the tests (module scope or a describe's body): a broken stack file would then abort the whole suite. Read it inside an it() or a hook of the describe.",
        },
      ],
    },
  },
);
