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
);
