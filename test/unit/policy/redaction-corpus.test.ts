// A corpus for redaction: secrets in many spellings must not survive, ordinary text must come
// through byte for byte. The false-positive rate on the ordinary list is printed and must be 0.
import { describe, expect, test } from 'vitest';
import { redact, Redactor, REDACTED } from '../../../src/policy';
import { luhnValid } from '../../../src/policy/credentials';

const PATTERNS = ['password', 'key', 'secret', 'token'];

/** [text, the secret(s) that must not survive, patterns (default PATTERNS)] */
const SECRETS: [string, string | string[], string[]?][] = [
  // keyword forms
  ['my password is hunter2', 'hunter2'],
  ['My password was swordfish.', 'swordfish'],
  ['the passwords are "open sesame" and nothing else', 'open sesame'],
  ['the password for the admin account is Zebra!42', 'Zebra!42'],
  ['Please set the password to bluefish', 'bluefish'],
  ['Your key is now Kx-4471-Q.', 'Kx-4471-Q'],
  ['password: Tr0ub4dor&3', 'Tr0ub4dor&3'],
  ['password: correct horse battery staple\nuser: bob', 'correct horse battery staple'],
  ['password=correcthorse', 'correcthorse'],
  ['PASSWORD = "battery staple" OTHER=1', 'battery staple'],
  ['token: tok_9f8e7d6c5b', 'tok_9f8e7d6c5b'],
  ['{"apiKey": "k-1234-abcd"}', 'k-1234-abcd'],
  ['{"db_password": 884422, "user": "bob"}', '884422'],
  ["export DB_PASSWORD='pa55word!'", 'pa55word!'],
  ['password hunter2x', 'hunter2x'],
  ["ALTER USER bob WITH PASSWORD 'Sql-Pass-1';", 'Sql-Pass-1'],
  ['mysql -u root --password s3cretpw db', 's3cretpw'],
  ['X-Api-Key: 0123abcd0123abcd', '0123abcd0123abcd'],
  ['secret:\n  multi-line-value-here\nuser: bob', 'multi-line-value-here'],
  ['config:\n  secret: |\n    blockline-one\n    blockline-two\n  other: 1', ['blockline-one', 'blockline-two']],
  ['$options = {password => perlpass1}', 'perlpass1'],
  ['password := gopass99', 'gopass99'],
  ['https://x.test/login?user=bob&password=qs-secret-1&next=/', 'qs-secret-1'],
  // credential formats, with no sensitive patterns at all
  ['AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE', []],
  ['temporary creds ASIAY34FZKBOKMUTVV7A expire soon', 'ASIAY34FZKBOKMUTVV7A', []],
  ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', []],
  ['{"SecretAccessKey": "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"}', 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY', []],
  ['stripe.api_key = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc', []],
  ['restricted rk_test_51H8x9QABCDEFGhijklmnop in use', 'rk_test_51H8x9QABCDEFGhijklmnop', []],
  ['publishable pk_live_TYooMQauvdEDq54NiTphI7jx', 'pk_live_TYooMQauvdEDq54NiTphI7jx', []],
  ['git clone https://ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com/org/repo', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a', []],
  ['GITHUB_TOKEN=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCD', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCD', []],
  ['oauth gho_abcdefghijklmnopqrstuvwxyz0123456789 granted', 'gho_abcdefghijklmnopqrstuvwxyz0123456789', []],
  ['SLACK_BOT_TOKEN=xoxb-2400001234-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx', 'xoxb-2400001234-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx', []],
  ['user token xoxp-1111111111-2222222222-3333333333-abcdef0123456789', 'xoxp-1111111111-2222222222-3333333333-abcdef0123456789', []],
  ['post to https://hooks.slack.com/services/T024BE7LD/B01ABCDEFGH/abcdefghijklmnopqrstuvwx', 'T024BE7LD/B01ABCDEFGH/abcdefghijklmnopqrstuvwx', []],
  ['GOOGLE_MAPS=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe', 'AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe', []],
  ['OPENAI=sk-proj-Abc123Def456Ghi789Jkl012Mno345Pqr678', 'sk-proj-Abc123Def456Ghi789Jkl012Mno345Pqr678', []],
  ['ANTHROPIC=sk-ant-api03-AbCdEf0123456789_ghIJkl-mnOPqr0123456789', 'sk-ant-api03-AbCdEf0123456789_ghIJkl-mnOPqr0123456789', []],
  ['npm config set //registry.npmjs.org/:_authToken npm_abcdefghijklmnopqrstuvwxyz0123456789', 'npm_abcdefghijklmnopqrstuvwxyz0123456789', []],
  ['GITLAB=glpat-xXyY12345678901234zZ', 'glpat-xXyY12345678901234zZ', []],
  [
    'Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    [],
  ],
  ['cookie: session=eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjoiYm9iIn0.dGhpcy1pcy1hLXNpZ25hdHVyZQ; Path=/', 'eyJ1c2VyIjoiYm9iIn0', []],
  ['curl -H "Authorization: Basic dXNlcjpwYXNzd29yZA==" https://api.example.com', 'dXNlcjpwYXNzd29yZA==', []],
  ['{"headers": {"authorization": "token 0123456789abcdef0123456789abcdef01234567"}}', '0123456789abcdef0123456789abcdef01234567', []],
  ['Proxy-Authorization: Digest username="bob", response="6629fae49393a05397450978507c4ef1"', '6629fae49393a05397450978507c4ef1', []],
  ['the request carried Bearer 9f86d081884c7d659a2feaa0c55ad015 in its header', '9f86d081884c7d659a2feaa0c55ad015', []],
  ['-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM\nQ2pJ7WJfQq8h0x1VSbZ\n-----END RSA PRIVATE KEY-----', ['MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM', 'Q2pJ7WJfQq8h0x1VSbZ'], []],
  ['{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\\n"}', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', []],
  ['key file, cut off:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ', []],
  ['DATABASE_URL=postgres://app:Pg-S3cret!@db.internal:5432/app', 'Pg-S3cret!', []],
  ['cache at redis://:r3dis-pass@cache:6379/0', 'r3dis-pass', []],
  // card numbers: spaces, dashes, none; several networks
  ['card 4111 1111 1111 1111 exp 12/27', '4111 1111 1111 1111', []],
  ['charged 5500-0000-0000-0004 today', '5500-0000-0000-0004', []],
  ['paid with 4012888888881881.', '4012888888881881', []],
  ['amex 3782 822463 10005', '3782 822463 10005', []],
  ['Discover 6011-1111-1111-1117', '6011-1111-1111-1117', []],
  ['JCB 3530111333300000', '3530111333300000', []],
  ['Mastercard 2223 0031 2200 3222', '2223 0031 2200 3222', []],
  ['Diners 3056 9309 0259 04', '3056 9309 0259 04', []],
  ['{"card": "4242424242424242", "cvc": "123"}', '4242424242424242', []],
];

/** Calls whose first part carries a secret that a later part repeats with nothing around it. */
const ECHOES: { name: string; secret: string; run: (r: Redactor) => unknown[] }[] = [
  { name: 'a tool echoes a keyed argument', secret: 'Echo-Me-123', run: (r) => [r.value({ password: 'Echo-Me-123' }), r.text('tool output: Echo-Me-123')] },
  { name: 'a secret in prose, echoed in a log', secret: 'swordfish', run: (r) => [r.text('my password is swordfish'), r.value([{ level: 'info', message: 'login with swordfish ok' }])] },
  { name: 'a card number, echoed inside a word', secret: '4111111111111111', run: (r) => [r.text('card 4111111111111111'), r.text('ref=X4111111111111111Y')] },
  { name: 'within one value, whatever the order', secret: 'zebra-crossing', run: (r) => [r.value({ note: 'I typed zebra-crossing', password: 'zebra-crossing' })] },
  { name: 'an explicitly tainted value', secret: 'hunter-two-xyz', run: (r) => (r.taint('hunter-two-xyz'), [r.text('capability sent hunter-two-xyz upstream')]) },
  { name: 'a JSON-escaped value, echoed unescaped', secret: 'a"quoted"pw', run: (r) => [r.text('{"password": "a\\"quoted\\"pw"}'), r.text('got a"quoted"pw')] },
  { name: 'a credential in capability traffic, echoed in the output', secret: 'AKIAIOSFODNN7EXAMPLE', run: (r) => [r.value({ url: 'https://x.test/?id=AKIAIOSFODNN7EXAMPLE' }), r.text('AKIAIOSFODNN7EXAMPLE')] },
];

const ORDINARY: string[] = [
  // prose that mentions secrets without giving one
  'Reset your password please.',
  'Forgot your password? Click the link we sent.',
  'Your password must be at least 12 characters long.',
  'The password is required.',
  'Your password was changed on 2024-01-15.',
  'The key is to keep it simple.',
  'Passwords are never stored in plain text; they are hashed with bcrypt.',
  'The API key is optional for public endpoints.',
  'Never share your secret with anyone.',
  'Keep your tokens private and rotate them every 90 days.',
  'The signing key is rotated monthly.',
  'The key is 2048 bits long.',
  'We use a password manager and a hardware key.',
  'Press the Enter key to continue.',
  'The password for this account is the same as before.',
  'password-protected archives are not supported',
  'The secret to good bread is patience.',
  'A monkey took the keys and ran.',
  'The key question is whether it scales.',
  'Use a strong password, for example one with 4 random words.',
  'Is the password case-sensitive? Yes, it is.',
  'The answer key is at the back of the book.',
  'The keys are in the drawer.',
  'The primary key is id.',
  'Set the key to null to disable caching.',
  'Change the password to something memorable.',
  'The password policy requires 2FA for admins.',
  'Enter password:',
  'Use the token bucket algorithm.',
  'Error: invalid_grant (the refresh token has expired)',
  'Bearer tokens are described in RFC 6750.',
  'Authorization: required for all endpoints',
  'AKIA is the prefix of AWS access key IDs.',
  // code
  'function checkPassword(password) { return password.length >= 12; }',
  'const password = await prompt("Password: ");',
  'if (!password) throw new Error("password required");',
  'user.password = hash(plain, salt);',
  'interface Login { user: string; password: string; }',
  'def login(username, password=None):',
  'db_password = os.environ["DB_PASSWORD"]',
  'password: ${{ secrets.DB_PASSWORD }}',
  'PGPASSWORD=$DB_PASSWORD psql -h localhost',
  'let apiKey = config.apiKey;',
  'headers["X-Api-Key"] = getKey();',
  'SELECT id, email FROM users WHERE password_hash IS NOT NULL;',
  'password VARCHAR(255) NOT NULL,',
  'for key, value in items.items():',
  'Object.keys(data).forEach((key) => console.log(key));',
  '<input type="password" name="password" autocomplete="current-password">',
  'git commit -m "Rotate the key material"',
  "grep -rn 'password' src/",
  'docker run -e POSTGRES_PASSWORD -p 5432:5432 postgres',
  'msg = "Enter the password " + name + " again"',
  'private String password;',
  'key=value pairs separated by &',
  'password: ********',
  '{"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42}',
  'import sklearn  # pip install scikit-learn sk-learn',
  'task-0123456789abcdefghij risk_live_updates_enabled',
  // numbers, dates and identifiers
  'Order #100234 shipped on 2024-03-05 for $1,249.99.',
  'Call us at +1 (415) 555-0132 or +44 20 7946 0958.',
  'Invoice 2024-000123, total 4,500.00 EUR',
  'ISBN 978-3-16-148410-0 and ISBN 9780306406157',
  'UUID 123e4567-e89b-12d3-a456-426614174000',
  'request id 550e8400-e29b-41d4-a716-446655440000',
  'commit 9fceb02d0ae598e95dc970b74767f19372d61af8',
  'sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'version 4.18.2, node v20.11.1, build 20240115.3',
  'timestamp 1700000000000 ms since epoch',
  'Tracking number 1Z999AA10123456784',
  'Price: $19.99 (was $24.99)',
  'Coordinates 48.8584, 2.2945',
  'The population was 4111111 in 2020.',
  'Account balance: 4,111,111,111.11',
  'IBAN DE89 3704 0044 0532 0130 00',
  'Meeting at 10:30 on 12/05/2024, room 4111.',
  'Tel: 555-123-4567, fax 555-123-4568',
  '2024-01-15T10:30:00Z 1705314600 INFO request finished in 35 ms',
  'pi is 3.14159265358979323846',
  'Numbers: 1234 5678 9012 3456 and 0000 0000 0000 0000',
  'ip 192.168.1.100 port 8080, lat/long 40.7128,-74.0060',
  'Serial 4111-1111, batch 2024-07',
  // base64 of ordinary data and URLs without credentials
  'Base64 of "hello world" is aGVsbG8gd29ybGQ=',
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'eyJ is how base64 JSON starts: eyJhIjoxfQ== decodes to {"a":1}',
  'JWT header eyJhbGciOiJIUzI1NiJ9 alone is not a token',
  'See https://example.com/docs/api-keys#rotation for details.',
  'https://user@example.com/path?q=1',
  'https://example.com:8443/login?next=/account',
  'mailto:support@example.com',
  'ssh git@github.com:org/repo.git',
  'https://api.example.com/v1/keys?limit=10',
  'Slack docs: https://api.slack.com/authentication/token-types',
  '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----',
];

const asList = (s: string | string[]): string[] => (Array.isArray(s) ? s : [s]);

describe('redaction corpus: secrets', () => {
  test('the corpus is large enough', () => {
    expect(SECRETS.length + ECHOES.length).toBeGreaterThanOrEqual(40);
  });

  test.each(SECRETS)('%j', (text, secret, patterns = PATTERNS) => {
    const result = redact(text, patterns);
    for (const s of asList(secret)) {
      expect(text).toContain(s); // the case is well-formed
      expect(result.text).not.toContain(s);
    }
    expect(result.text).toContain(REDACTED);
    expect(result.redactions).toBeGreaterThan(0);
    expect(redact(result.text, patterns).text).toBe(result.text); // stable
  });

  test('every card in the corpus is Luhn-valid (so the detector, not luck, is tested)', () => {
    const cards = SECRETS.filter(([text]) => /card|charged|paid|amex|discover|jcb|mastercard|diners/i.test(text)).map(([, s]) => asList(s)[0]!.replace(/[ -]/g, ''));
    expect(cards.length).toBeGreaterThanOrEqual(9);
    for (const card of cards) expect(luhnValid(card), card).toBe(true);
  });

  test.each(ECHOES)('taint: $name', ({ secret, run }) => {
    const outputs = run(new Redactor(['password']));
    expect(JSON.stringify(outputs)).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(outputs.map((o) => (typeof o === 'string' ? o : JSON.stringify(o))).join('\n')).not.toContain(secret);
  });
});

describe('redaction corpus: ordinary text', () => {
  test('the corpus is large enough', () => {
    expect(ORDINARY.length).toBeGreaterThanOrEqual(60);
  });

  test('is left exactly unchanged (false-positive rate 0)', () => {
    const changed = ORDINARY.map((text) => ({ text, out: redact(text, PATTERNS).text })).filter(({ text, out }) => out !== text);
    const rate = changed.length / ORDINARY.length;
    console.log(`redaction corpus: ${SECRETS.length + ECHOES.length} secrets, ${ORDINARY.length} ordinary texts, false-positive rate ${(rate * 100).toFixed(1)}%`);
    expect(changed).toEqual([]);
    expect(rate).toBe(0);
  });

  test('is left unchanged by a redactor that has already masked secrets of the call', () => {
    const r = new Redactor(PATTERNS);
    r.value({ password: 'hunter2', token: 'abc' });
    for (const text of ORDINARY) expect(r.text(text)).toBe(text);
  });
});
