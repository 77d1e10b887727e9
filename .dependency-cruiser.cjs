/**
 * The layer rules of stablehand (`npm run lint`). Dependencies point one way:
 *   core ← ports ← manager ← adapters, and core ← ports ← ui.
 * core is the leaf (types, errors, records); ports are interfaces only; the manager names a concrete
 * adapter only in manager/defaults.ts; the web layer talks to the engine through its port alone.
 * docs/architecture.md draws the picture.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle ties modules together so that neither can be understood, tested or loaded alone.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'core-is-the-leaf',
      comment: 'core/ holds the types, errors and records everything else shares; it imports nothing else from src.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'ports-are-interfaces',
      comment: 'ports/ declares what the engine needs and offers; it may use core/ types and nothing else from src.',
      severity: 'error',
      from: { path: '^src/ports/' },
      to: { path: '^src/', pathNot: '^src/(core|ports)/' },
    },
    {
      name: 'manager-knows-only-ports',
      comment: 'The engine uses stores and runners through their ports; manager/defaults.ts alone names the default adapters.',
      severity: 'error',
      from: { path: '^src/manager/', pathNot: '^src/manager/defaults\\.ts$' },
      to: { path: '^src/(adapters|ui)/' },
    },
    {
      name: 'ui-talks-to-the-port',
      comment: 'The web layer sees the engine only through ports/task-manager-port.ts; it never imports the manager or an adapter.',
      severity: 'error',
      from: { path: '^src/ui/' },
      to: { path: '^src/(manager|adapters)/' },
    },
    {
      name: 'adapters-stay-apart',
      comment: 'An adapter does not use another adapter or the web layer.',
      severity: 'error',
      from: { path: '^src/adapters/([^/]+)/' },
      to: { path: '^src/(ui/|adapters/)', pathNot: '^src/adapters/$1/' },
    },
    {
      name: 'adapters-below-the-engine',
      comment: 'Adapters implement ports; only the TypeORM flavour of the manager builds on the engine itself.',
      severity: 'error',
      from: { path: '^src/adapters/', pathNot: '^src/adapters/typeorm/model-tracking-task-manager\\.ts$' },
      to: { path: '^src/manager/' },
    },
    {
      name: 'no-dev-dependencies-in-src',
      comment: 'The published code may only need its dependencies and peer dependencies.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['npm-peer', 'type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-orphans',
      comment: 'A module nothing imports is dead code (or an entry point that should be listed here).',
      severity: 'error',
      from: { orphan: true, path: '^src/', pathNot: ['^src/(index|bullmq)\\.ts$', '\\.d\\.ts$'] },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
