import { familiarName, parseReference, repositoryOf } from '../../../shared/reference';

/** Docker's `reference=` glob: `*` and `?` stay within one path component. */
export function globPattern(glob: string): RegExp {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** The forms a name is matched in: full and familiar, with and without the tag. */
export function nameForms(name: string): string[] {
  try {
    const ref = parseReference(name);
    const repo = repositoryOf(ref);
    const familiar = familiarName(ref);
    const familiarRepo = familiarName({ domain: ref.domain, path: ref.path });
    return [name, repo, familiar, familiarRepo];
  } catch {
    return [name];
  }
}

/** `key`, `key=value`, and their negations `!key` / `!key=value` (the CLI's `label!=`). */
export function labelMatcher(filter: string): (labels: Record<string, string>) => boolean {
  const negate = filter.startsWith('!');
  const body = negate ? filter.slice(1) : filter;
  const eq = body.indexOf('=');
  const key = eq < 0 ? body : body.slice(0, eq);
  const value = eq < 0 ? undefined : body.slice(eq + 1);
  return (labels) => {
    const has = Object.hasOwn(labels, key) && (value === undefined || labels[key] === value);
    return negate ? !has : has;
  };
}
