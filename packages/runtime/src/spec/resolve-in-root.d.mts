/**
 * The host path of `path` inside `root`, resolving symlinks as if `root` were `/`; `readlink`
 * returns a link's target or null. Throws an Error with code "ELOOP" after 40 links.
 */
export declare function resolveInRoot(
  root: string,
  path: string,
  readlink: (hostPath: string) => string | null,
): string;
