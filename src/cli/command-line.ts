// The command line an operation's journal keeps for `mup cluster audit`: mup's own arguments, quoted so that
// they read as typed, with every secret masked — the journal lives on disk for as long as the cluster does.

export const MASK = '***';

/** Option names whose value is a secret: --password, --sslPEMKeyPassword, --client-secret, --api-token ... */
const SECRET_OPTION = /^--?[\w-]*(pass(word|phrase)?|secret|token)[\w-]*$/i;

/** `scheme://user:password@host`: the password part of a URI's user info. */
const URI_CREDENTIALS = /([a-z][\w+.-]*:\/\/[^\s/:@]*:)([^\s/@]+)(@)/gi;

function maskValue(argument: string): string {
  return argument.replace(URI_CREDENTIALS, `$1${MASK}$3`);
}

/**
 * `args` (mup's arguments, without node and the script) with secrets masked: the value of any option named
 * like a password, given as `--opt value` or `--opt=value`; `-p value` after `--` (the shells' and tools'
 * short password flag); and the password of a URI with credentials.
 */
export function maskSecrets(args: readonly string[]): string[] {
  const masked: string[] = [];
  let afterDashDash = false;
  let nextIsSecret = false;
  for (const argument of args) {
    if (nextIsSecret) {
      masked.push(MASK);
      nextIsSecret = false;
      continue;
    }
    if (argument === '--' && !afterDashDash) {
      afterDashDash = true;
      masked.push(argument);
      continue;
    }
    const equals = argument.indexOf('=');
    const name = equals > 0 ? argument.slice(0, equals) : argument;
    const isSecretName = SECRET_OPTION.test(name) || (afterDashDash && name === '-p');
    if (isSecretName && equals > 0) masked.push(`${name}=${MASK}`);
    else if (isSecretName) {
      masked.push(argument);
      nextIsSecret = true;
    } else masked.push(maskValue(argument));
  }
  return masked;
}

/** An argument as a POSIX shell reads it back: bare when that is safe, else single-quoted. */
export function quoteArgument(argument: string): string {
  // `*` stays bare: it is the mask, and a masked line is for reading, not for pasting.
  if (/^[\w@%+=:,./*-]+$/.test(argument)) return argument;
  return `'${argument.replaceAll("'", "'\\''")}'`;
}

/** `mup cluster restart prod -R mongos`, secrets masked. */
export function auditCommandLine(args: readonly string[]): string {
  return ['mup', ...maskSecrets(args).map(quoteArgument)].join(' ');
}
