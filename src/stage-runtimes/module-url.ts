/**
 * An external stage kind is built from a spec (a command line, a Python file's description). The
 * engine runs a stage by importing its module URL in a worker, so the spec travels in the URL:
 * `command-stage.js?spec=<base64url JSON>` is a module whose default export is that kind. Node
 * gives each distinct URL its own module instance.
 */
export function moduleUrlWithSpec(moduleUrl: string, spec: unknown): string {
  const u = new URL(moduleUrl);
  u.searchParams.set('spec', Buffer.from(JSON.stringify(spec)).toString('base64url'));
  return u.href;
}

export function specFromModuleUrl<T>(importMetaUrl: string): T {
  const raw = new URL(importMetaUrl).searchParams.get('spec');
  if (!raw) throw new Error(`${importMetaUrl.split('?')[0]} is imported with ?spec=… by the engine; it is not a stage module of its own`);
  return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as T;
}

/** This directory's sibling module (compiled .js, or .ts under tsx). */
export function siblingUrl(importMetaUrl: string, name: string): string {
  return new URL(`./${name}${importMetaUrl.split('?')[0]!.endsWith('.ts') ? '.ts' : '.js'}`, importMetaUrl).href;
}
