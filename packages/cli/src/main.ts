/**
 * The `licensekit` command line: argument parsing only. Each command's work lives in
 * `commands/<name>.ts` and is imported when that command runs, so `licensekit verify`
 * never loads the issuer, the CBOR encoder or the other commands (cold start matters:
 * apps and scripts call it as a fresh process).
 */
import { Command, CommanderError } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import type {
  ActivationImportFlags,
  ActivationRequestFlags,
  ActivationRespondFlags,
} from './commands/activation.js';
import type {
  AdminFlags,
  ListFlags,
  PlanFlags,
  ProductFlags,
  RevokeLicenseFlags,
} from './commands/admin.js';
import type {
  PayoutConfirmFlags,
  PayoutRunFlags,
  PayoutShowFlags,
  VendorCreateFlags,
} from './commands/admin-marketplace.js';
import type { VendorTokenCreateFlags } from './commands/admin-vendor-tokens.js';
import type { AuditCertFlags, AuditChainFlags } from './commands/audit.js';
import type { AuditStoreFlags } from './commands/audit-store.js';
import type { CertFlags } from './commands/cert.js';
import type { ConsumeFlags } from './commands/consume.js';
import type { ActivateFlags, RefreshFlags } from './commands/customer.js';
import type { DemoFlags } from './commands/demo.js';
import type { ExportFlags } from './commands/export.js';
import type { InspectFlags } from './commands/inspect.js';
import type { IssueFlags } from './commands/issue.js';
import type { KeygenFlags } from './commands/keygen.js';
import type { LogProofFlags } from './commands/log.js';
import type { RenewFlags } from './commands/renew.js';
import type { RevokeFlags } from './commands/revoke.js';
import type { ServeFlags } from './commands/serve.js';
import type { VerifyFlags } from './commands/verify.js';
import { EXIT } from './lib/errors.js';
import { type Io, processIo } from './lib/io.js';

/** Collects a repeatable flag (`--trust a --trust b`). */
const many = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

/** The claim flags shared by `issue` and `renew`. */
function licenseOptions(command: Command, renewing: boolean): Command {
  const keep = renewing ? ' (default: unchanged)' : '';
  return command
    .option(
      '--vendor <id>',
      `vendor id, the iss claim${renewing ? keep : ' (default: the vendor of --cert, else "local")'}`,
    )
    .option(
      '--plan <name>',
      `plan id${renewing ? keep : ' (default: "standard", or "trial" with --trial)'}`,
    )
    .option(
      '--days <n>',
      renewing
        ? 'extend the term by N days from its end (or from now, once ended)'
        : 'term in days from now',
    )
    .option(
      '--exp <time>',
      `end of the term, ISO 8601 or Unix seconds${renewing ? '' : ' (neither: perpetual)'}`,
    )
    .option('--grace <duration>', 'grace after the end of the term, e.g. 7d')
    .option('--refresh-after <duration>', 'ask the app to refresh this long after issue, e.g. 1d')
    .option(
      '--quota <name=limit>',
      'exports=1000/month, storage=5000 (whole term), exports=unlimited; repeatable',
      many,
    )
    .option('--seats <n>', 'devices the license may be activated on (the seats quota)')
    .option('--feature <name>', 'an entitlement; repeatable or comma-separated', many)
    .option('--trial', 'mark the license as a trial (access "trial")')
    .option('--bind <thumbprint>', 'bind to a device key (its thumbprint, as printed by keygen)')
    .option(
      '--format <format>',
      `cwt (compact) or jwt (default: ${renewing ? 'that of the token' : 'cwt'})`,
    )
    .option('--now <time>', 'issue time, ISO 8601 or Unix seconds (default: the clock)')
    .option('--out <file>', 'write the token to FILE instead of standard output');
}

type Setter = (code: number) => void;

function buildProgram(
  io: Io,
  setExit: Setter,
  run: (argv: readonly string[], io: Io) => Promise<number>,
): Command {
  const program = new Command('licensekit')
    .description(
      'Ed25519-signed offline software licenses: keys, certificates, signing, verification, quota, audits.',
    )
    .version(packageJson.version, '-v, --version')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
      outputError: (text, write) =>
        write(`licensekit: ${text.replace(/^error: /, '').trim()} (see licensekit --help)\n`),
    })
    .addHelpText(
      'after',
      '\nExit codes: 0 ok/valid, 1 not valid/refused/broken, 2 usage error, 3 store unreachable (try again later).\nStart with: licensekit demo',
    );

  const command = (name: string, parent: Command = program): Command => {
    const path = parent === program ? name : `${parent.name()} ${name}`;
    return parent.command(name).configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
      // Commander's own mistakes (unknown flag, missing value) as one line, like ours.
      outputError: (text, write) =>
        write(
          `licensekit ${path}: ${text.replace(/^error: /, '').trim()} (see licensekit ${path} --help)\n`,
        ),
    });
  };

  command('keygen')
    .description(
      'generate an Ed25519 key pair: private JWK (mode 0600) and FILE.pub.json; prints the kid',
    )
    .requiredOption(
      '--out <file>',
      'private key file, e.g. root.json (the public key goes to root.pub.json)',
    )
    .option('--force', 'replace existing key files (the old private key is lost)')
    .action(async (flags: KeygenFlags) =>
      setExit(await (await import('./commands/keygen.js')).keygen(flags, io)),
    );

  command('cert')
    .description('certify an issuer key with the root key, for some products and a number of days')
    .requiredOption('--root <file>', 'root private key file')
    .requiredOption('--issuer <file>', 'issuer public key file (issuer.pub.json)')
    .requiredOption('--products <ids>', "comma-separated product ids, or * for all of the vendor's")
    .option('--days <n>', 'validity in days (default: 365)')
    .option('--vendor <id>', 'vendor id (default: "local")')
    .option('--format <format>', 'cwt (default) or jwt')
    .option('--now <time>', 'start of validity, ISO 8601 or Unix seconds (default: the clock)')
    .option('--out <file>', 'write the certificate to FILE instead of standard output')
    .action(async (flags: CertFlags) =>
      setExit(await (await import('./commands/cert.js')).cert(flags, io)),
    );

  licenseOptions(
    command('issue')
      .description('sign a license token; prints only the token')
      .requiredOption('--key <file>', 'issuer private key file')
      .option(
        '--cert <file>',
        'issuer certificate to embed (apps that trust only the root need it)',
      )
      .requiredOption('--product <id>', 'product id, the aud claim')
      .requiredOption('--license <id>', 'license id, the sub claim (stable across renewals)'),
    false,
  ).action(async (flags: IssueFlags) =>
    setExit(await (await import('./commands/issue.js')).issue(flags, io)),
  );

  licenseOptions(
    command('renew')
      .description(
        'sign the next token of a license (seq + 1, prev = hash of TOKEN); flags override claims',
      )
      .argument('[token]', 'the current token, or - for standard input')
      .option('--file <file>', 'read the current token from FILE')
      .requiredOption('--key <file>', 'issuer private key file')
      .option('--cert <file>', 'issuer certificate to embed (default: the one the token carries)')
      .option('--product <id>', 'product id (default: unchanged)')
      .option('--license <id>', 'license id; must be that of the token'),
    true,
  )
    .option('--no-trial', 'make a trial a full license')
    .action(async (token: string | undefined, flags: RenewFlags) =>
      setExit(await (await import('./commands/renew.js')).renew(token, flags, io)),
    );

  command('verify')
    .description('verify a license offline; exit 0 when valid, 1 when not')
    .argument('[token]', 'the token, or - for standard input')
    .option('--file <file>', 'read the token from FILE')
    .option('--trust <file>', 'trusted public key (root or issuer, *.pub.json); repeatable', many)
    .option('--product <id>', "require this product (default: the token's own, not checked)")
    .option('--now <time>', 'check at this time, ISO 8601 or Unix seconds (default: the clock)')
    .option('--json', 'print the verify result as JSON')
    .option('--state <file>', 'verifier state file: rollback and clock defense across runs')
    .option('--revocations <file>', 'apply a signed revocation list')
    .option('--device-key <file>', "this device's private key file, for bound licenses")
    .option(
      '--log-key <key>',
      "require an issuance log proof under this log key (origin+id+base64, the store's log.key), or @FILE of keys; repeatable",
      many,
    )
    .option('--log-proof <file>', 'the log proof of the token (licensekit log proof writes it)')
    .action(async (token: string | undefined, flags: VerifyFlags) =>
      setExit(await (await import('./commands/verify.js')).verify(token, flags, io)),
    );

  command('inspect')
    .description('decode a license, certificate or revocation list WITHOUT verifying it')
    .argument('[token]', 'the document, or - for standard input')
    .option('--file <file>', 'read the document from FILE')
    .option('--json', 'print as JSON')
    .action(async (token: string | undefined, flags: InspectFlags) =>
      setExit(await (await import('./commands/inspect.js')).inspect(token, flags, io)),
    );

  command('consume')
    .description('spend quota offline against a state file; exit 0 when granted, 1 when refused')
    .argument('[token]', 'the license token, or - for standard input')
    .option('--file <file>', 'read the token from FILE')
    .option('--trust <file>', 'trusted public key (root or issuer); repeatable', many)
    .requiredOption('--product <id>', 'the product id of this app')
    .requiredOption('--quota <name>', 'the quota to spend, e.g. exports')
    .option('--amount <n>', 'units to spend (default: 1)')
    .requiredOption('--state <file>', 'verifier state file (created when missing)')
    .option('--now <time>', 'spend at this time, ISO 8601 or Unix seconds (default: the clock)')
    .option('--json', 'print the consume result as JSON')
    .option('--revocations <file>', 'apply a signed revocation list')
    .option('--device-key <file>', "this device's private key file, for bound licenses")
    .action(async (token: string | undefined, flags: ConsumeFlags) =>
      setExit(await (await import('./commands/consume.js')).consume(token, flags, io)),
    );

  command('revoke')
    .description('sign a revocation list (complete, not a delta: list every revocation in force)')
    .requiredOption('--key <file>', 'root or issuer private key file')
    .option('--vendor <id>', 'vendor id (default: "local")')
    .option(
      '--seq <n>',
      'list sequence number, higher than every earlier list (default: now, Unix seconds)',
    )
    .option(
      '--next <duration>',
      'when a fresher list is promised, e.g. 7d; after it the list is stale',
    )
    .option('--license <id>', 'revoke a license (every token of it); repeatable', many)
    .option('--token <jti>', 'revoke one token by its jti; repeatable', many)
    .option('--kid <kid>', 'revoke a signing key by its kid; repeatable', many)
    .option('--format <format>', 'cwt (default) or jwt')
    .option('--now <time>', 'issue time, ISO 8601 or Unix seconds (default: the clock)')
    .option('--out <file>', 'write the list to FILE instead of standard output')
    .action(async (flags: RevokeFlags) =>
      setExit(await (await import('./commands/revoke.js')).revoke(flags, io)),
    );

  const audit = command('audit').description(
    'checks for auditors: token lineages and issuer certificates',
  );
  command('chain', audit)
    .description(
      'check a license lineage: signatures, same license, seq + 1, prev = hash of the previous token',
    )
    .argument('<files...>', 'token files of one license')
    .option('--trust <file>', 'trusted public key (root or issuer); repeatable', many)
    .action(async (files: string[], flags: AuditChainFlags) =>
      setExit(await (await import('./commands/audit.js')).auditChain(files, flags, io)),
    );
  command('cert', audit)
    .description('check issuer certificates: signed by a trusted root, window and product scope')
    .argument('<files...>', 'certificate files')
    .option('--trust <file>', 'trusted root public key; repeatable', many)
    .option('--now <time>', 'flag certificates expired at this time (default: the clock)')
    .action(async (files: string[], flags: AuditCertFlags) =>
      setExit(await (await import('./commands/audit.js')).auditCert(files, flags, io)),
    );

  // Auditable issuance: export a whole store, then audit the export offline.
  command('store', audit)
    .description(
      'audit a store export: key chain, signatures, lineages vs orders, log vs checkpoints; exit 0 clean, 1 findings',
    )
    .argument('<dir>', 'an export directory written by licensekit export')
    .option('--trust <file>', 'trusted root public key (root.pub.json); repeatable', many)
    .option(
      '--log-key <key>',
      "the log's verifier key (origin+id+base64), or @FILE holding it; repeatable",
      many,
    )
    .option('--json', 'print the findings as JSON (schema licensekit.audit-store/1)')
    .option('--html <file>', 'also write a self-contained HTML report to FILE')
    .option(
      '--checkpoint <file>',
      'a checkpoint seen elsewhere that the log must extend; repeatable',
      many,
    )
    .option(
      '--token <file>',
      'a token found in the field that must be in the log; repeatable',
      many,
    )
    .option('--workers <n>', 'worker threads for signature checks (default: the cores; 0: none)')
    .action(async (dir: string, flags: AuditStoreFlags) =>
      setExit(await (await import('./commands/audit-store.js')).auditStore(dir, flags, io)),
    );
  command('export')
    .description(
      "export a store's issuance log, checkpoints, keys, catalogue, licenses and orders for an audit",
    )
    .requiredOption('--out <dir>', 'a new directory for the export')
    .option(
      '--store <url>',
      'the store (default: LICENSEKIT_STORE_URL, else http://127.0.0.1:8787)',
    )
    .option('--token <token>', 'admin token (default: LICENSEKIT_ADMIN_TOKEN)')
    .option(
      '--data <dir>',
      "a stopped store's data directory: run it in-process on loopback to export it",
    )
    .action(async (flags: ExportFlags) =>
      setExit(await (await import('./commands/export.js')).exportStore(flags, io)),
    );

  // Offline activation: licenses for machines that never go online.
  const activation = command('activation').description(
    'licenses for machines that never go online: request, import, and respond (support desk)',
  );
  const activationModule = () => import('./commands/activation.js');
  const appOptions = (sub: Command): Command =>
    sub
      .option('--trust <file>', 'trusted public key (root or issuer, *.pub.json); repeatable', many)
      .requiredOption('--product <id>', 'the product id of this app')
      .requiredOption('--device-key <file>', "this device's private key file (licensekit keygen)")
      .option(
        '--state <file>',
        'verifier state file, where the request is remembered (default: DEVICE-KEY.state.json beside the key)',
      )
      .option('--now <time>', 'the time, ISO 8601 or Unix seconds (default: the clock)')
      .option(
        '--log-key <key>',
        "require an issuance log proof under this log key (the store's log.key), or @FILE; repeatable",
        many,
      );
  appOptions(
    command('request', activation)
      .description(
        'write an activation (--key/--hint) or refresh (--token) request of this device; prints its text',
      )
      .option('--key <key>', 'the license key (only its last four characters go into the request)')
      .option('--hint <hint>', 'the last four characters of the license key, instead of --key')
      .option('--token <file>', 'the token held: a refresh request, or named by an activation')
      .option('--usage', 'report the usage of the --token license (the offline quota ledger)')
      .option('--out <file>', 'write the request to FILE instead of standard output')
      .option('--qr <file>', 'also write it as QR codes: FILE.svg or FILE.png (parts: FILE-1 …)'),
  ).action(async (flags: ActivationRequestFlags) =>
    setExit(await (await activationModule()).activationRequest(flags, io)),
  );
  appOptions(
    command('import', activation)
      .description(
        "install the token of the store's response after every check of verify; exit 0 installed, 1 refused",
      )
      .argument('<response>', 'the response file, or - for standard input')
      .option('--out <file>', 'write the token to FILE (default: standard output)'),
  ).action(async (file: string, flags: ActivationImportFlags) =>
    setExit(await (await activationModule()).activationImport(file, flags, io)),
  );
  command('respond', activation)
    .description(
      "the support desk: answer a customer's request through the store's admin API; prints the response",
    )
    .argument('<request>', 'the request file (its text, or QR code parts one a line), or -')
    .requiredOption('--license <id>', 'the license to activate or refresh')
    .option(
      '--store <url>',
      'the store (default: LICENSEKIT_STORE_URL, else http://127.0.0.1:8787)',
    )
    .option(
      '--token <token>',
      'admin token (default: LICENSEKIT_ADMIN_TOKEN, else DIR/admin-token)',
    )
    .option('--data <dir>', "the store's data directory, to read its admin token")
    .option('--out <file>', 'write the response to FILE instead of standard output')
    .action(async (file: string, flags: ActivationRespondFlags) =>
      setExit(await (await activationModule()).activationRespond(file, flags, io)),
    );

  // The command line as a customer's app: online activation and refresh against a store.
  const customerModule = () => import('./commands/customer.js');
  command('activate')
    .description(
      'activate this device on a license at a store (a seat); keeps the token, the device key (0600) and what refresh needs beside --state',
    )
    .option(
      '--store <url>',
      'the store (default: LICENSEKIT_STORE_URL, else http://127.0.0.1:8787)',
    )
    .requiredOption('--key <key>', 'the license key, or - to read it from standard input')
    .requiredOption(
      '--state <file>',
      'verifier state file; the token, device key and license record go beside it',
    )
    .option(
      '--trust <file>',
      "the vendor's root public key (*.pub.json); repeatable (default: the store's, pinned)",
      many,
    )
    .option('--product <id>', "require this product (default: the token's own)")
    .option('--name <name>', 'the device name shown in the portal (default: licensekit on HOST)')
    .option('--json', 'print the device and the verify result as JSON')
    .action(async (flags: ActivateFlags) =>
      setExit(await (await customerModule()).activate(flags, io)),
    );
  command('refresh')
    .description(
      'ask the store for the next token of the license activated with --state, when it is due (or --force)',
    )
    .requiredOption('--state <file>', 'the verifier state file given to activate')
    .option('--store <url>', 'the store (default: the one activated with)')
    .option('--force', 'refresh even when the token is not due yet')
    .option('--json', 'print the refresh outcome as JSON')
    .action(async (flags: RefreshFlags) =>
      setExit(await (await customerModule()).refresh(flags, io)),
    );

  const log = command('log').description("a store's issuance log: proofs that a token is in it");
  command('proof', log)
    .description(
      "fetch the proof that a token is in a store's issuance log, to keep beside it (verify --log-proof)",
    )
    .argument('[token]', 'the token, or - for standard input')
    .option('--file <file>', 'read the token from FILE')
    .option(
      '--store <url>',
      'the store (default: LICENSEKIT_STORE_URL, else http://127.0.0.1:8787)',
    )
    .option(
      '--log-key <key>',
      'check the proof against this log key (or @FILE) first; repeatable',
      many,
    )
    .option('--out <file>', 'write the proof to FILE instead of standard output')
    .action(async (token: string | undefined, flags: LogProofFlags) =>
      setExit(await (await import('./commands/log.js')).logProof(token, flags, io)),
    );

  command('demo')
    .description(
      'a guided tour: keys, certificate, a Pro license, verify now, in grace and expired, quota',
    )
    .option('--dir <dir>', 'working directory for the demo files', 'licensekit-demo')
    .action(async (flags: DemoFlags) =>
      setExit(await (await import('./commands/demo.js')).demo(flags, io, run)),
    );

  // The admin API of a running store, over HTTP.
  const admin = command('admin').description(
    'manage a running store through its admin API (--store URL, --token or --data DIR for the token)',
  );
  const adminOptions = (sub: Command): Command =>
    sub
      .option(
        '--store <url>',
        'the store (default: LICENSEKIT_STORE_URL, else http://127.0.0.1:8787)',
      )
      .option(
        '--token <token>',
        'admin token (default: LICENSEKIT_ADMIN_TOKEN, else DIR/admin-token)',
      )
      .option(
        '--data <dir>',
        "the store's data directory, to read its admin token (default: .licensekit)",
      )
      .option('--json', 'print the API response as JSON');
  const adminModule = () => import('./commands/admin.js');
  const products = command('products', admin).description('products of the catalogue');
  adminOptions(command('list', products).description('every product and plan')).action(
    async (flags: AdminFlags) => setExit(await (await adminModule()).listProducts(flags, io)),
  );
  adminOptions(
    command('create', products)
      .description('create or update a product')
      .requiredOption('--id <id>', 'product id (lowercase letters, digits, -)')
      .requiredOption('--name <name>', 'display name')
      .option('--description <text>', 'description'),
  ).action(async (flags: ProductFlags) =>
    setExit(await (await adminModule()).createProduct(flags, io)),
  );
  const plans = command('plans', admin).description('plans of a product');
  adminOptions(
    command('create', plans)
      .description('create or update a plan')
      .requiredOption('--product <id>', 'product id')
      .requiredOption('--id <id>', 'plan id')
      .requiredOption('--name <name>', 'display name')
      .requiredOption('--price <minor>', 'price in minor units (cents), per seat with --per-seat')
      .option('--currency <code>', 'ISO 4217 currency (default USD)')
      .requiredOption('--interval <interval>', 'month, year or once')
      .option('--term-days <n>', "for 'once' plans: the term in days (default: lifetime)")
      .option('--trial-days <n>', 'free trial days')
      .option('--per-seat', 'price per seat')
      .option('--seats <n>', 'seats included (per-seat plans: the default quantity)')
      .option(
        '--quota <name=limit>',
        'exports=1000/month, downloads=50, exports=unlimited; repeatable',
        many,
      )
      .option('--feature <name>', 'an entitlement; repeatable or comma-separated', many)
      .option('--grace-days <n>', 'grace after the end of a period (default 7)'),
  ).action(async (flags: PlanFlags) => setExit(await (await adminModule()).createPlan(flags, io)));
  const orders = command('orders', admin).description('orders');
  adminOptions(
    command('list', orders)
      .description('orders, newest first')
      .option('--status <status>', 'pending, paid, failed or cancelled')
      .option('--email <email>', 'customer email')
      .option('--product <id>', 'product id'),
  ).action(async (flags: ListFlags) => setExit(await (await adminModule()).listOrders(flags, io)));
  adminOptions(
    command('mark-paid', orders)
      .description('mark a pending (manual) order paid')
      .argument('<order>', 'order id'),
  ).action(async (order: string, flags: AdminFlags) =>
    setExit(await (await adminModule()).markPaid(order, flags, io)),
  );
  const licenses = command('licenses', admin).description('licenses');
  adminOptions(
    command('list', licenses)
      .description('licenses, newest first')
      .option(
        '--status <status>',
        'pending, trialing, active, past_due, cancelled, expired or revoked',
      )
      .option('--email <email>', 'customer email')
      .option('--product <id>', 'product id'),
  ).action(async (flags: ListFlags) =>
    setExit(await (await adminModule()).listLicenses(flags, io)),
  );
  adminOptions(
    command('revoke', licenses)
      .description('revoke a license: refresh answers 403 and the revocation list names it')
      .argument('<license>', 'license id')
      .option('--reason <text>', 'reason, kept with the revocation'),
  ).action(async (license: string, flags: RevokeLicenseFlags) =>
    setExit(await (await adminModule()).revokeLicense(license, flags, io)),
  );
  // The marketplace: vendors and payout runs (commands/admin-marketplace.ts).
  const marketplaceModule = () => import('./commands/admin-marketplace.js');
  const vendors = command('vendors', admin).description('vendors selling through the store');
  adminOptions(
    command('create', vendors)
      .description('add a vendor with its revenue share and payout hold')
      .requiredOption('--name <name>', 'display name')
      .option('--id <id>', 'vendor id (lowercase letters, digits, -; default: from the name)')
      .option('--share-bps <n>', "the vendor's share in basis points (default 7500 = 75 %)")
      .option('--hold-days <n>', 'payout hold in business days (default 22)'),
  ).action(async (flags: VendorCreateFlags) =>
    setExit(await (await marketplaceModule()).createVendor(flags, io)),
  );
  adminOptions(command('list', vendors).description('every vendor with its terms')).action(
    async (flags: AdminFlags) => setExit(await (await marketplaceModule()).listVendors(flags, io)),
  );
  // A vendor's own admin tokens (commands/admin-vendor-tokens.ts).
  const vendorTokensModule = () => import('./commands/admin-vendor-tokens.js');
  const vendorTokens = command('tokens', vendors).description(
    "a vendor's admin tokens, scoped to its products",
  );
  adminOptions(
    command('create', vendorTokens)
      .description('make a vendor token; printed once on stdout, the store keeps only a hash')
      .argument('<vendor>', 'vendor id')
      .option('--label <text>', 'what the token is for, shown in lists'),
  ).action(async (vendor: string, flags: VendorTokenCreateFlags) =>
    setExit(await (await vendorTokensModule()).createVendorToken(vendor, flags, io)),
  );
  adminOptions(
    command('list', vendorTokens)
      .description("a vendor's tokens, revoked ones too (never the token itself)")
      .argument('<vendor>', 'vendor id'),
  ).action(async (vendor: string, flags: AdminFlags) =>
    setExit(await (await vendorTokensModule()).listVendorTokens(vendor, flags, io)),
  );
  adminOptions(
    command('revoke', vendorTokens)
      .description('revoke a vendor token: the store refuses it from the next request on')
      .argument('<vendor>', 'vendor id')
      .argument('<token-id>', 'token id (vtk_…)'),
  ).action(async (vendor: string, tokenId: string, flags: AdminFlags) =>
    setExit(await (await vendorTokensModule()).revokeVendorToken(vendor, tokenId, flags, io)),
  );
  const payouts = command('payouts', admin).description('payout runs and statements');
  adminOptions(
    command('run', payouts)
      .description('gather every balance whose hold has passed into pending payouts (idempotent)')
      .option('--dry-run', 'show what a run would pay now, and change nothing')
      .option('--vendor <id>', 'one vendor only'),
  ).action(async (flags: PayoutRunFlags) =>
    setExit(await (await marketplaceModule()).runPayouts(flags, io)),
  );
  adminOptions(
    command('confirm', payouts)
      .description('mark a pending payout paid once the money was sent (books it; idempotent)')
      .argument('<payout>', 'payout id (po_…)')
      .option('--reference <text>', "the bank's or processor's reference of the transfer"),
  ).action(async (payout: string, flags: PayoutConfirmFlags) =>
    setExit(await (await marketplaceModule()).confirmPayout(payout, flags, io)),
  );
  adminOptions(
    command('show', payouts)
      .description('a payout and its statement (the ledger lines it pays)')
      .argument('<payout>', 'payout id (po_…)')
      .option('--format <format>', 'csv or json (default: readable text)'),
  ).action(async (payout: string, flags: PayoutShowFlags) =>
    setExit(await (await marketplaceModule()).showPayout(payout, flags, io)),
  );

  // The reference store: a lazily imported module, so no other command pays for it.
  command('serve')
    .description(
      'run the reference store (PGlite in --data by default; DATABASE_URL for PostgreSQL)',
    )
    .option('--port <n>', 'port to listen on (default: PORT, else 8787; 0 picks a free one)')
    .option('--host <host>', 'address to listen on (default: HOST, else 127.0.0.1)')
    .option(
      '--data <dir>',
      'data directory: database, keys, secrets, files (default: LICENSEKIT_DATA, else ./.licensekit)',
    )
    .option(
      '--public-url <url>',
      'the URL customers reach the store at (default: LICENSEKIT_PUBLIC_URL, else the listen address)',
    )
    .option(
      '--now <time>',
      "pretend the store's clock starts at TIME, e.g. +2d (default: LICENSEKIT_NOW; development and tests only, refused in production)",
    )
    .action(async (flags: ServeFlags) =>
      setExit(await (await import('./commands/serve.js')).serve(flags, io)),
    );

  return program;
}

const USER_ERROR_CODES = new Set([
  'ERR_KEY_INVALID',
  'ERR_CLAIM_INVALID',
  'ERR_CONFIG',
  'ERR_MALFORMED',
  'ERR_STATE_LOCKED',
  'ERR_LOG_PROOF',
]);

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EEXIST: 'it already exists',
};

/** A file-system failure on a path the user gave (a state file, an output directory). */
function systemProblem(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('code' in error) || !('path' in error)) return undefined;
  const text = ERRNO_TEXT[String(error.code)];
  if (text === undefined) return undefined;
  const action = 'syscall' in error ? String(error.syscall) : 'use';
  return `cannot ${action} ${String(error.path)}: ${text}; check the path and its permissions`;
}

/** Top-level error handling: one line on stderr, never a stack trace unless asked for. */
function report(error: unknown, io: Io): number {
  if (error instanceof CommanderError) {
    // Commander has printed its message (or the help) already.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  // By name, not instanceof: each command is its own bundle with its own copy of the class.
  if ((error instanceof Error && error.name === 'UsageError') || USER_ERROR_CODES.has(code)) {
    io.err(`licensekit: ${oneLine((error as Error).message)}\n`);
    return EXIT.usage;
  }
  const system = systemProblem(error);
  if (system !== undefined) {
    io.err(`licensekit: ${system}\n`);
    return EXIT.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.err(`licensekit: internal error: ${oneLine(message)}; set LICENSEKIT_DEBUG=1 for details\n`);
  if (process.env.LICENSEKIT_DEBUG && error instanceof Error && error.stack)
    io.err(`${error.stack}\n`);
  return EXIT.internal;
}

/**
 * Runs one command line (without the `node licensekit` part) and returns its exit code.
 * Nothing here calls process.exit, so the demo can run the real commands in-process.
 */
export async function runCli(argv: readonly string[], io: Io = processIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(
    io,
    (code) => {
      exitCode = code;
    },
    runCli,
  );
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return report(error, io);
  }
}

process.exitCode = await runCli(process.argv.slice(2));
