/** One challenge from a `WWW-Authenticate` header: a scheme (lowercased) and its parameters (names lowercased). */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

const tchar = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses `WWW-Authenticate` values (RFC 7235: comma-separated challenges, each a scheme and `name=value`
 * parameters whose values are tokens or quoted strings with backslash escapes). Several header lines may be
 * passed. Malformed tails are dropped rather than thrown: a registry's odd header must not break a pull.
 */
export function parseWwwAuthenticate(header: string | string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  const lines = Array.isArray(header) ? header : [header];
  return lines.flatMap(parseLine);
}

/** The first challenge with `scheme` (case-insensitive), if any. */
export function findChallenge(challenges: AuthChallenge[], scheme: string): AuthChallenge | undefined {
  const wanted = scheme.toLowerCase();
  return challenges.find((c) => c.scheme === wanted);
}

function parseLine(line: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  let i = 0;
  const n = line.length;
  const skipSpace = (): void => {
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && tchar.test(line[i] as string)) i++;
    return line.slice(start, i);
  };
  /** True when a `name =` parameter (not a new challenge) starts at the cursor. */
  const paramAhead = (): boolean => {
    const save = i;
    skipSpace();
    const name = readToken();
    skipSpace();
    // `abc==` is a token68 credential, not a parameter named abc.
    const yes = name !== '' && line[i] === '=' && line[i + 1] !== '=';
    i = save;
    return yes;
  };

  while (i < n) {
    while (i < n && (line[i] === ',' || line[i] === ' ' || line[i] === '\t')) i++;
    const scheme = readToken();
    if (scheme === '') {
      // Not a scheme: skip to the next challenge.
      while (i < n && line[i] !== ',') i++;
      if (i >= n) break;
      continue;
    }
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    skipSpace();
    for (;;) {
      if (!paramAhead()) {
        // A token68 credential (or nothing): skip to the next comma.
        while (i < n && line[i] !== ',') i++;
        break;
      }
      skipSpace();
      const name = readToken().toLowerCase();
      skipSpace();
      i++; // '='
      skipSpace();
      let value: string;
      if (line[i] === '"') {
        i++;
        let v = '';
        while (i < n && line[i] !== '"') {
          if (line[i] === '\\' && i + 1 < n) i++;
          v += line[i];
          i++;
        }
        i++;
        value = v;
      } else {
        value = readToken();
      }
      if (!(name in challenge.params)) challenge.params[name] = value;
      skipSpace();
      if (line[i] !== ',') break;
      i++;
      if (!paramAhead()) break;
    }
  }
  return out;
}
