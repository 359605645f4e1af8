// Shell completion: `mup completion bash|zsh|fish` prints a script that asks `mup __complete WORDS...` for the
// candidates of the last word, so the three shells share one implementation that follows the command tree as
// it is registered (verbs added later complete without touching this file). Candidates: subcommands, the
// options of the command and the global ones, option choices, cluster names for a command's first <name>
// argument, playground tags for --tag, and the cluster's processes for -N.
import type { Command, Option } from '@commander-js/extra-typings';
import { resolveMupHome } from '../meta/home.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

type AnyCommand = Command<unknown[], Record<string, unknown>, Record<string, unknown>>;

/** Where the last word stands, found by walking the words before it through the command tree. */
interface Position {
  command: AnyCommand;
  /** Positional arguments already given to `command`. */
  operands: string[];
  /** The option whose value the last word is, if any. */
  valueFor?: Option | undefined;
  /** --home given on the line (completion then reads that home). */
  home?: string | undefined;
}

function visible(command: AnyCommand): AnyCommand[] {
  return (command.commands as AnyCommand[]).filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
}

function optionsOf(command: AnyCommand): Option[] {
  const all: Option[] = [];
  for (let c: AnyCommand | null = command; c; c = c.parent as AnyCommand | null)
    all.push(...(c.options as Option[]));
  return all.filter((o) => !o.hidden);
}

function findOption(command: AnyCommand, word: string): Option | undefined {
  const name = word.split('=')[0];
  return optionsOf(command).find((o) => o.long === name || o.short === name);
}

function locate(words: readonly string[], program: AnyCommand): Position {
  const position: Position = { command: program, operands: [] };
  for (let i = 0; i < words.length - 1; i++) {
    const word = words[i] as string;
    if (word === '--') break;
    if (word.startsWith('-')) {
      const option = findOption(position.command, word);
      const takesValue = option !== undefined && (option.required || option.optional) && !word.includes('=');
      if (takesValue) {
        if (i === words.length - 2) return { ...position, valueFor: option };
        if (option.long === '--home') position.home = words[i + 1];
        i++;
      } else if (option?.long === '--home' && word.includes('='))
        position.home = word.slice('--home='.length);
      continue;
    }
    const sub = visible(position.command).find((c) => c.name() === word || c.aliases().includes(word));
    if (sub && position.operands.length === 0) position.command = sub;
    else position.operands.push(word);
  }
  return position;
}

/** Candidates for the last of `words` (the words after `mup`; the last may be empty), filtered by its prefix. */
export async function completeWords(
  words: readonly string[],
  program: AnyCommand,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const current = words[words.length - 1] ?? '';
  const position = locate(words.length === 0 ? [''] : words, program);
  const home = () => resolveMupHome(position.home, env);
  const { clusterNames, processNames } = await import('../ops/completion.js');
  let candidates: string[] = [];
  if (position.valueFor) {
    const option = position.valueFor;
    if (option.argChoices) candidates = [...option.argChoices];
    else if (option.long === '--node') {
      const cluster = position.operands[0];
      candidates = cluster === undefined ? [] : await processNames(home(), cluster);
    } else if (option.long === '--tag')
      candidates = (await clusterNames(home()))
        .filter((n) => n.startsWith('playground-'))
        .map((n) => n.slice('playground-'.length));
  } else if (current.startsWith('-')) {
    candidates = optionsOf(position.command).flatMap((o) => (o.long ? [o.long] : o.short ? [o.short] : []));
    candidates.push('--help');
  } else {
    const subs = visible(position.command);
    if (subs.length > 0 && position.operands.length === 0) candidates = subs.map((c) => c.name());
    else {
      const args = (
        position.command as unknown as {
          registeredArguments: { name(): string; argChoices?: string[] | undefined }[];
        }
      ).registeredArguments;
      const next = args[position.operands.length];
      if (next?.argChoices) candidates = [...next.argChoices];
      else if (next?.name() === 'name') candidates = await clusterNames(home());
    }
  }
  return [...new Set(candidates)].filter((c) => c.startsWith(current)).sort();
}

export function completionScript(shell: Shell): string {
  if (shell === 'bash')
    return `# mup completion for bash: source <(mup completion bash), or save it in
# ~/.local/share/bash-completion/completions/mup
_mup_complete() {
  local line="\${COMP_LINE:0:COMP_POINT}" IFS=$' \\t\\n'
  local -a words
  read -ra words <<< "$line"
  [[ "$line" == *[[:space:]] ]] && words+=("")
  local cur="\${words[\${#words[@]}-1]}"
  local IFS=$'\\n'
  COMPREPLY=($(mup __complete "\${words[@]:1}" 2>/dev/null))
  # bash splits words at ':' (COMP_WORDBREAKS): offer host:port values without the part already typed.
  if [[ "$cur" == *:* && "$COMP_WORDBREAKS" == *:* ]]; then
    local typed="\${cur%"\${cur##*:}"}"
    COMPREPLY=("\${COMPREPLY[@]#"$typed"}")
  fi
}
complete -o default -F _mup_complete mup
`;
  if (shell === 'zsh')
    return `#compdef mup
# mup completion for zsh: source <(mup completion zsh) after compinit, or save it as _mup in your $fpath
_mup() {
  local -a candidates
  candidates=("\${(@f)$(mup __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  candidates=("\${(@)candidates:#}")
  if (( \${#candidates} )); then
    compadd -- "\${(@)candidates}"
  else
    _files
  fi
}
if (( $+functions[compdef] )); then compdef _mup mup; fi
`;
  return `# mup completion for fish: mup completion fish > ~/.config/fish/completions/mup.fish
function __mup_complete
    set -l tokens (commandline -opc) (commandline -ct)
    mup __complete $tokens[2..-1] 2>/dev/null
end
complete -c mup -f -a '(__mup_complete)'
`;
}
