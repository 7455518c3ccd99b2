/**
 * `recover --version`: the package version, and when run from the bundle, what it was built
 * from (scripts/build.mjs defines __RECOVER_BUILD__: the commit if the build had git, and the
 * build time), so a runner host can say what it runs without git or the sources there.
 */
import pkg from '../../package.json' with { type: 'json' };

export interface BuildInfo {
  commit: string | null;
  builtAt: string;
}

declare const __RECOVER_BUILD__: BuildInfo | undefined;

/** The build's facts, or null when running from the sources (tsx, tests). */
export function buildInfo(): BuildInfo | null {
  return typeof __RECOVER_BUILD__ === 'undefined' ? null : __RECOVER_BUILD__;
}

/** `recover-bot 0.1.0 (commit 52425f3, built 2025-01-15T14:29:59Z)`; from the sources `recover-bot 0.1.0 (from source)`. */
export function versionText(build: BuildInfo | null = buildInfo()): string {
  if (!build) return `${pkg.name} ${pkg.version} (from source)`;
  return `${pkg.name} ${pkg.version} (${build.commit ? `commit ${build.commit}, ` : ''}built ${build.builtAt})`;
}
