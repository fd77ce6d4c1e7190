// Where a Bedrock call gets its AWS region and credentials: the plugin config first, then the standard
// AWS environment variables, then (in production only) the AWS SDK's default provider chain (shared
// config and credentials files, SSO, web identity, ECS/EC2 instance roles), as Kong does.
import { CredentialError, type TargetContext } from '../core/types';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** `options.bedrock.aws_region`, else AWS_REGION, else AWS_DEFAULT_REGION. */
export function awsRegion(ctx: TargetContext): string {
  const region = nonEmpty(ctx.options.bedrock?.aws_region) ?? nonEmpty(ctx.env.AWS_REGION) ?? nonEmpty(ctx.env.AWS_DEFAULT_REGION);
  if (!region) {
    // Kong answers 500 "LLM request failed before proxying" here (and crashed before 3.8.1, Kong/kong#13666).
    throw new CredentialError(
      'AWS region not specified: set model.options.bedrock.aws_region, or AWS_REGION / AWS_DEFAULT_REGION in the environment');
  }
  if (!/^[a-z0-9-]{1,32}$/.test(region)) throw new CredentialError(`invalid AWS region '${region}'`);
  return region;
}

type CredentialChain = () => Promise<AwsCredentials>;

let defaultChain: CredentialChain | undefined;

/**
 * The SDK's default chain, created once per process: it memoises what it finds and refreshes
 * temporary credentials (instance roles, SSO, web identity) shortly before they expire.
 */
async function sdkDefaultChain(): Promise<CredentialChain> {
  if (!defaultChain) {
    const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
    const provider = defaultProvider();
    defaultChain = async () => {
      const c = await provider();
      return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) };
    };
  }
  return defaultChain;
}

/**
 * Config keys (auth.aws_access_key_id / aws_secret_access_key) win, then AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN) from ctx.env. The SDK chain reads process-wide state
 * (files, instance metadata), so it is only consulted when ctx.env is the real process environment:
 * a test with a fixed environment never reaches for the machine's credentials.
 */
export async function awsCredentials(ctx: TargetContext): Promise<AwsCredentials> {
  const a = ctx.auth;
  const configId = nonEmpty(a?.aws_access_key_id);
  const configSecret = nonEmpty(a?.aws_secret_access_key);
  if (configId && configSecret) return { accessKeyId: configId, secretAccessKey: configSecret };
  if (configId || configSecret) {
    throw new CredentialError('auth.aws_access_key_id and auth.aws_secret_access_key must be set together');
  }
  const envId = nonEmpty(ctx.env.AWS_ACCESS_KEY_ID);
  const envSecret = nonEmpty(ctx.env.AWS_SECRET_ACCESS_KEY);
  if (envId && envSecret) {
    const token = nonEmpty(ctx.env.AWS_SESSION_TOKEN);
    return { accessKeyId: envId, secretAccessKey: envSecret, ...(token ? { sessionToken: token } : {}) };
  }
  if (ctx.env !== process.env) {
    throw new CredentialError('no AWS credentials: set auth.aws_access_key_id / aws_secret_access_key or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY');
  }
  try {
    return await (await sdkDefaultChain())();
  } catch (e) {
    throw new CredentialError(`no AWS credentials found (config, environment or the AWS default provider chain): ${(e as Error).message}`);
  }
}

function nonEmpty(v: string | null | undefined): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}
