/** The parsed configuration handed to every process; see loadConfig in ../config.ts. */
import type { Failpoint } from './failpoints.js';

export type AzureAuth =
  | { kind: 'connection-string'; connectionString: string }
  | { kind: 'shared-key'; account: string; accountKey: string; endpoint: string }
  | { kind: 'token'; account: string; endpoint: string; credential: string; managedIdentityClientId?: string };

export interface StorageConfig {
  /** Unset unless RECOVER_STORAGE_DRIVER is given: opening storage then fails naming it (see openStorage). */
  driver?: 'local' | 'azure';
  localDir: string;
  azure?: AzureAuth;
  containers: { backups: string; wal: string; dumps: string };
  backupPrefix: string;
  walPrefix: string;
  retries: number;
  timeoutMs: number;
}

export interface VerifyTable {
  table: string;
  timestampColumn?: string;
}

export interface SlackConfig {
  signingSecret?: string;
  botToken?: string;
  appToken?: string;
  socketMode: boolean;
  port: number;
  /** Web API base URL; only set to point the bot at the Slack stand-in. */
  apiUrl?: string;
  /** Channel name patterns (`inc-*`) or channel IDs where /recover is accepted. */
  allowedChannels: string[];
}

export interface ApprovalConfig {
  approvers: Record<string, { users: string[]; usergroups: string[] }>;
  required: { 'read-only': number; 'side-copy': number; destructive: number };
  ttlMinutes: number;
}

/**
 * RECOVER_RPO_MINUTES and RECOVER_RTO_MINUTES: the most data a recovery may lose (target − point
 * reached; also the newest archived WAL's age in `backups`) and the longest it may take
 * (request to finish). Summaries compare with them; nothing is refused for exceeding them.
 */
export interface RecoveryObjectives {
  rpoSeconds: number;
  rtoSeconds: number;
}

/** Restore drills: RECOVER_DRILL_SCHEDULE (cron, UTC; absent: only `/recover drill`), RECOVER_DRILL_WARN_PERCENT of the RTO goal as a share. */
export interface DrillConfig {
  schedule?: string;
  warnShare: number;
}

/** The RPO watch: RECOVER_ALERT_CHANNEL (unset: notices recorded, not posted), RECOVER_RPO_CHECK_SECONDS (0: no watch), RECOVER_RPO_REMINDER_MINUTES. */
export interface AlertsConfig {
  channel?: string;
  checkSeconds: number;
  reminderSeconds: number;
}

export interface FailoverConfig {
  /** RECOVER_FAILOVER_PROVIDER: promote RECOVER_STANDBY_URL (self-managed, the default) or the Azure flexible server's read replica (azure). */
  provider?: 'self-managed' | 'azure';
  standbyUrl?: string;
  /** RECOVER_STANDBY_DATA_DIR: the DR server's data directory, when this runner is on its host (switchover, failback stop and restart it). */
  standbyDataDir?: string;
  fenceCommand?: string[];
  switchCommand?: string[];
  healthUrl?: string;
  maxLagSeconds: number;
  catchUpTimeoutSeconds: number;
  reconnectTimeoutSeconds: number;
}

/**
 * Azure Database for PostgreSQL flexible server (engine/azure): where production's server and its
 * DR read replica are, where a geo-restore creates its new server, and which credential reaches
 * Azure Resource Manager (RECOVER_AZURE_CREDENTIAL, the storage's setting: DefaultAzureCredential
 * by default, or a named one).
 */
export interface AzureDbConfig {
  subscriptionId?: string;
  resourceGroup?: string;
  primaryServer?: string;
  replicaServer?: string;
  /** Where the replica and geo-restored servers are (RECOVER_AZURE_DR_RESOURCE_GROUP); default resourceGroup. */
  drResourceGroup?: string;
  /** The paired region a geo-restore creates its server in (RECOVER_AZURE_DR_LOCATION). */
  drLocation?: string;
  credential: string;
  managedIdentityClientId?: string;
  armEndpoint: string;
  pollSeconds: number;
}

export interface Config {
  storage: StorageConfig;
  /** baseTransfer: how base backups are cut into parts and how many move at once (engine/backup-parts). */
  pg: { bin: string; osUser: string; tar?: 'auto' | 'bsdtar' | 'gnu'; backupMethod?: 'auto' | 'files' | 'stream'; baseTransfer?: { partBytes: number; parallel: number; codec?: 'zstd' | 'lz4' } };
  source: {
    url?: string;
    dataDir?: string;
    stop: { method: 'pg_ctl' | 'hook'; stopCommand?: string[]; startCommand?: string[] };
  };
  /**
   * /recover failover: RECOVER_STANDBY_URL (the standby promoted), RECOVER_FAILOVER_FENCE_COMMAND and
   * RECOVER_FAILOVER_SWITCH_COMMAND (argv arrays), RECOVER_FAILOVER_HEALTH_URL, the apply-lag limit and deadlines.
   * Optional so configurations built by hand (tests) need not name it; loadConfig always sets it.
   */
  failover?: FailoverConfig;
  /** The Azure flexible-server settings; optional like failover (loadConfig always sets it). */
  azureDb?: AzureDbConfig;
  restoreRoot: string;
  /** RECOVER_DUMP_JOBS: pg_dump workers per database of a scheduled dump, and of `recover dump-backup` without --jobs (default 2). */
  dumpJobs?: number;
  /** RECOVER_DUMP_DATABASES: the databases `recover dump-backup` dumps; absent: every one of production that takes connections and is not a template. */
  dumpDatabases?: string[];
  /**
   * RECOVER_STATE_DIR: what the recover CLI keeps on its own disk (0700, files 0600): the record of
   * each database copy it made and verified, which a CLI swap requires. Never on production.
   */
  stateDir: string;
  walAgentSocket: string;
  /**
   * What the WAL agent writes into the hook and the printed lines: RECOVER_HOOK_NODE (node for the
   * postgres user), RECOVER_HOOK_FALLBACK (the recover executable the hook runs as `wal-push` when the
   * agent does not answer), RECOVER_ENV_FILE (the settings file that command reads).
   */
  hook: { node?: string; fallback?: string; envFile?: string };
  prefetch: { parallel: number; ahead: number };
  recoveryTimeoutSeconds: number;
  verifyTables: VerifyTable[];
  /** RECOVER_VERIFY_CONFIG: path of the integrity checker's JSON file (critical tables, relations, rules, amcheck). */
  verifyConfigFile?: string;
  /** LOG_LEVEL when set; absent, each process picks its own (the runner, bot and WAL hooks info, the CLI's commands warn). */
  logLevel?: string;
  controlUrl?: string;
  pool: string;
  runnerId?: string;
  /** RECOVER_RUNNER_HOST, default the OS hostname: in-place plans record it, and only a runner on that host claims them. */
  runnerHost: string;
  /**
   * RECOVER_LEASE_SECONDS: how long a runner's job lease lasts without a heartbeat before the job
   * is failed as RUNNER_LOST (default 60). Above the longest control-DB outage a job should ride
   * out (a managed PostgreSQL's maintenance restart or failover): a destructive step waits at
   * most this long for the control DB, and a job whose lease ran out while it was away is lost.
   */
  leaseSeconds: number;
  /**
   * RECOVER_HEALTH_PORT: where GET /healthz and /readyz are answered by `recover runner` (none when
   * unset) and by `recover bot` besides SLACK_PORT (in Socket Mode: SLACK_PORT when unset).
   */
  healthPort?: number;
  /** RECOVER_FAILPOINTS: fault tests only; the process kills itself at these points (engine/failpoints.ts). */
  failpoints: readonly Failpoint[];
  /** RECOVER_RETENTION_FULL / RECOVER_RETENTION_DAYS: the newest N complete backups and/or D days stay restorable (engine/retention); absent or empty: nothing expires. */
  retention?: { full?: number; days?: number };
  /** RECOVER_BACKUP_SCHEDULE: when the runners of the pool take a base backup, as cron in UTC (util/cron.ts); absent: no scheduled backups. */
  backupSchedule?: string;
  /** RECOVER_DUMP_SCHEDULE: when the runners of the pool take `recover dump-backup`, as cron in UTC; absent: no scheduled dumps. */
  dumpSchedule?: string;
  /** RECOVER_DUMP_RETENTION_COUNT / _DAYS: per database, the newest N complete dumps and/or those of the last D days stay (engine/dumps/retention.ts); absent: no dump expires. */
  dumpRetention?: { count?: number; days?: number };
  /** What people call production; typed to confirm destructive plans. Required by the runner and the bot (requireProductionName). */
  productionName?: string;
  slack: SlackConfig;
  approval: ApprovalConfig;
  objectives: RecoveryObjectives;
  alerts: AlertsConfig;
  drill: DrillConfig;
}
