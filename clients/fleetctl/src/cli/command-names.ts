// Finding the command a word names, as fleet 1.0's fleetctl (cobra, with prefix matching on):
// the command of that name, else the only command whose name begins with the word
// (`fleetctl list-m` is list-machines; `fleetctl st` is ambiguous). An unknown word gets cobra's
// error, with its "Did you mean this?" suggestions. Pure.

/** Levenshtein distance, ignoring case (cobra's ld). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = row;
  }
  return previous[t.length] ?? 0;
}

/** The command the word names: its exact name, else the one name it is a prefix of; undefined otherwise. */
export function resolveCommand(word: string, names: readonly string[]): string | undefined {
  if (names.includes(word)) return word;
  const matches = word === "" ? [] : names.filter((n) => n.startsWith(word));
  return matches.length === 1 ? matches[0] : undefined;
}

/** cobra's suggestions: the names within 2 edits of the word, or that begin with it (ignoring case). */
export function suggestionsFor(word: string, names: readonly string[]): string[] {
  return names.filter((n) => editDistance(word, n) <= 2 || n.toLowerCase().startsWith(word.toLowerCase()));
}

/** cobra's error for a word that names no command, suggestions included. */
export function unknownCommandMessage(word: string, suggestible: readonly string[]): string {
  const suggestions = suggestionsFor(word, suggestible);
  const tail = suggestions.length > 0 ? `\n\nDid you mean this?\n${suggestions.map((s) => `\t${s}\n`).join("")}` : "";
  return `unknown command ${JSON.stringify(word)} for "fleetctl"${tail}`;
}
