import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/bullmq.ts'],
  format: ['esm', 'cjs'],
  // tsup's declaration step sets baseUrl, which TypeScript 6 deprecates.
  dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // import.meta.url in the CommonJS build (the router resolves express relative to the package).
  shims: true,
  // Peer dependencies stay external so the host's single copy of TypeORM and Express is used.
  external: ['typeorm', 'express', 'bullmq', 'ioredis'],
});
