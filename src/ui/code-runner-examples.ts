/**
 * Example programs for the demo agent's code runner (execute_code). Each shows one thing the
 * sandbox does: a result and stdout, a policy denial, workspace files, a time limit, an error.
 * The JavaScript guest API is in docs/execute-code.md; the Python examples use only the
 * standard library and the `input` global every language gets.
 */
export type RunnerLanguage = 'javascript' | 'python';

export interface CodeExample {
  id: string;
  language: RunnerLanguage;
  title: string;
  code: string;
  /** JSON text for the `input` argument ('' = none). */
  input: string;
  /** Suggested `timeoutMs` ('' = the policy's limit). */
  timeoutMs: string;
}

export const CODE_EXAMPLES: readonly CodeExample[] = [
  {
    id: 'js-sum',
    language: 'javascript',
    title: 'Sum the input numbers',
    code: `// \`input\` is the JSON below; the value of the last expression is the result.
const numbers = input.numbers;
console.log(\`adding \${numbers.length} numbers\`);
const total = numbers.reduce((sum, x) => sum + x, 0);
({ total, mean: total / numbers.length })`,
    input: '{ "numbers": [3, 1, 4, 1, 5, 9, 2, 6] }',
    timeoutMs: '',
  },
  {
    id: 'js-fetch-denied',
    language: 'javascript',
    title: 'A request the policy denies',
    code: `// The demo agents may not reach this host (network.blockedDomains / allowedDomains).
// Uncaught, the denial ends the run as policy-denied, naming the rule; caught, the
// program goes on.
console.log('asking for https://malware.example.com/ …');
const response = await sandbox.fetch('https://malware.example.com/');
response.status`,
    input: '',
    timeoutMs: '',
  },
  {
    id: 'js-files',
    language: 'javascript',
    title: 'Write and read a workspace file',
    code: `// Workspace files go through the agent's file policy (files.allowedPatterns).
const path = './workspace/hello.txt';
const bytes = await sandbox.writeFile(path, \`hello from execute_code at \${new Date().toISOString()}\`);
console.log(\`wrote \${bytes} bytes to \${path}\`);
console.log('the folder holds', await sandbox.listDirectory('./workspace'));
await sandbox.readFile(path)`,
    input: '',
    timeoutMs: '',
  },
  {
    id: 'js-loop',
    language: 'javascript',
    title: 'An endless loop (times out, or press Stop)',
    code: `// Runs until its time is up: with the timeout below the run ends as \`timeout\`.
// Press Stop (or Escape) before that to cancel it instead.
let n = 0;
while (true) n++;`,
    input: '',
    timeoutMs: '5000',
  },
  {
    id: 'js-error',
    language: 'javascript',
    title: 'An uncaught error',
    code: `function parse(text) {
  return JSON.parse(text);
}
console.error('about to parse something that is not JSON');
parse('{ not json')`,
    input: '',
    timeoutMs: '',
  },
  {
    id: 'py-stats',
    language: 'python',
    title: 'Statistics of a list',
    code: `# \`input\` is the JSON below.
import statistics

numbers = input["numbers"]
summary = {
    "count": len(numbers),
    "mean": statistics.mean(numbers),
    "median": statistics.median(numbers),
    "stdev": round(statistics.stdev(numbers), 3),
}
print(summary)
summary`,
    input: '{ "numbers": [2, 4, 4, 4, 5, 5, 7, 9] }',
    timeoutMs: '',
  },
  {
    id: 'py-words',
    language: 'python',
    title: 'Most common words',
    code: `from collections import Counter

words = input["text"].lower().replace(".", "").split()
top = Counter(words).most_common(3)
for word, count in top:
    print(f"{word}: {count}")
top`,
    input: '{ "text": "The cat sat. The cat ran. A dog sat." }',
    timeoutMs: '',
  },
  {
    id: 'py-traceback',
    language: 'python',
    title: 'A traceback',
    code: `def ratio(a, b):
    return a / b

print("about to divide by zero")
ratio(1, 0)`,
    input: '',
    timeoutMs: '',
  },
  {
    id: 'py-loop',
    language: 'python',
    title: 'An endless loop (times out, or press Stop)',
    code: `# Runs until its time is up: with the timeout below the run ends as \`timeout\`.
n = 0
while True:
    n += 1`,
    input: '',
    timeoutMs: '5000',
  },
];

export function examplesFor(language: RunnerLanguage): CodeExample[] {
  return CODE_EXAMPLES.filter((e) => e.language === language);
}
