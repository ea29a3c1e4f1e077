// The layout rules of ARCHITECTURE.md §2, enforced by `npm run lint` (dependency-cruiser):
// features -> config -> lib -> platform, imports only point down, features never import each other,
// and nothing imports in a cycle. components/README.md explains the layers.
const features = "(foundation|teams|models|edge|addons|observability|cost|benchmarks)";

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycle",
      comment: "An import cycle: split the shared part out and import it from below.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "kernel-imports-nothing-of-ours",
      comment: "components/platform/ is the kernel of facts: it imports only itself.",
      severity: "error",
      from: { path: "^components/platform/" },
      to: { path: "^(components/(?!platform/)|verify/|scripts/|tests/|index\\.ts)" },
    },
    {
      name: "kit-imports-only-the-kernel",
      comment: "components/lib/ knows no feature: it imports the kernel and itself only.",
      severity: "error",
      from: { path: "^components/lib/" },
      to: { path: "^(components/(?!platform/|lib/)|verify/|scripts/|tests/|index\\.ts)" },
    },
    {
      name: "config-imports-only-the-kernel",
      comment: "components/config/ validates stack config against the kernel's facts.",
      severity: "error",
      from: { path: "^components/config/" },
      to: { path: "^(components/(?!platform/|config/)|verify/|scripts/|tests/|index\\.ts)" },
    },
    {
      name: "features-do-not-import-each-other",
      comment:
        "Features talk through what index.ts passes them (endpoints, roles, releases), never by import.",
      severity: "error",
      from: { path: `^components/${features}/` },
      to: {
        path: `^components/${features}/`,
        pathNot: "^components/$1/",
      },
    },
    {
      name: "program-imports-no-tooling",
      comment:
        "The Pulumi program (index.ts, components/) runs without the verifiers, scripts or tests.",
      severity: "error",
      from: { path: "^(components/|index\\.ts)" },
      to: { path: "^(verify|scripts|tests|policy)/" },
    },
    {
      name: "only-tests-import-tests",
      comment: "Shared test tooling lives in verify/ (the program-under-mocks runner included).",
      severity: "error",
      from: { pathNot: "^tests/" },
      to: { path: "^tests/" },
    },
    {
      name: "verify-imports-no-scripts",
      comment: "scripts/ are thin CLIs over components/ and verify/, not a library.",
      severity: "error",
      from: { path: "^(verify|components)/" },
      to: { path: "^scripts/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|bin|policy/node_modules)/" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: [".ts", ".mts", ".js", ".json"] },
  },
};
