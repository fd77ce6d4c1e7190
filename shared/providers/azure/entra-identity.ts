// Which Microsoft Entra ID identity an azure target with auth.azure_use_managed_identity authenticates
// as, from its auth fields and the plugin server's AZURE_* variables, as Kong Enterprise chooses (its
// kong/plugins/ai-proxy/handler.lua tries a client secret credential, then managed identity): a client
// id, a client secret and a tenant id select an app registration (client-secret credential); a client id
// alone a user-assigned managed identity; nothing the system-assigned one. Each field comes from the
// config, else from the variable.
// Shared by the request path and the configuration checks, so both decide alike.

/** The auth fields this reads (the config's `auth`, shared/llm/config-fields.ts). */
export interface EntraAuthFields {
  readonly azure_use_managed_identity: boolean;
  readonly azure_client_id: string | null;
  readonly azure_client_secret: string | null;
  readonly azure_tenant_id: string | null;
}

export type Env = Readonly<Record<string, string | undefined>>;

export type AzureEntraIdentity =
  | { readonly kind: 'client-secret'; readonly tenantId: string; readonly clientId: string; readonly clientSecret: string }
  | { readonly kind: 'user-assigned-managed-identity'; readonly clientId: string }
  | { readonly kind: 'system-assigned-managed-identity' };

export type EntraField = 'azure_client_id' | 'azure_client_secret' | 'azure_tenant_id';

export type EntraSelection =
  | { readonly ok: true; readonly identity: AzureEntraIdentity }
  /** A configured field that would be ignored: Kong falls back silently, we say so. */
  | { readonly ok: false; readonly field: EntraField; readonly reason: string };

function nonEmpty(v: string | null | undefined): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/**
 * The identity the fields select. A client secret or a tenant id in the config that the rest of the
 * credential cannot complete is refused rather than dropped for a managed identity (Kong's fallback),
 * since the operator plainly meant an app registration. Partial AZURE_* variables are not refused: the
 * environment is shared with other tools, so they only count when they complete a credential.
 */
export function selectAzureEntraIdentity(auth: EntraAuthFields, env: Env): EntraSelection {
  const clientId = nonEmpty(auth.azure_client_id) ?? nonEmpty(env.AZURE_CLIENT_ID);
  const clientSecret = nonEmpty(auth.azure_client_secret) ?? nonEmpty(env.AZURE_CLIENT_SECRET);
  const tenantId = nonEmpty(auth.azure_tenant_id) ?? nonEmpty(env.AZURE_TENANT_ID);
  if (clientId && clientSecret && tenantId) return { ok: true, identity: { kind: 'client-secret', tenantId, clientId, clientSecret } };
  if (nonEmpty(auth.azure_client_secret)) {
    const missing = [!clientId && 'a client id (auth.azure_client_id or AZURE_CLIENT_ID)', !tenantId && 'a tenant id (auth.azure_tenant_id or AZURE_TENANT_ID)']
      .filter((m): m is string => typeof m === 'string');
    return { ok: false, field: 'azure_client_secret', reason: `an app registration's client secret also needs ${missing.join(' and ')}` };
  }
  if (nonEmpty(auth.azure_tenant_id)) {
    return {
      ok: false, field: 'azure_tenant_id',
      reason: 'a tenant id is used only with a client secret (auth.azure_client_secret or AZURE_CLIENT_SECRET); a managed identity takes none',
    };
  }
  if (clientId) return { ok: true, identity: { kind: 'user-assigned-managed-identity', clientId } };
  return { ok: true, identity: { kind: 'system-assigned-managed-identity' } };
}

/** For log lines and errors: what the identity is, never its secret. */
export function describeAzureEntraIdentity(identity: AzureEntraIdentity): string {
  switch (identity.kind) {
    case 'client-secret': return `client secret credential of client ${identity.clientId} in tenant ${identity.tenantId}`;
    case 'user-assigned-managed-identity': return `user-assigned managed identity ${identity.clientId}`;
    case 'system-assigned-managed-identity': return 'system-assigned managed identity';
  }
}

const ENTRA_FIELDS: readonly EntraField[] = ['azure_client_id', 'azure_client_secret', 'azure_tenant_id'];

/**
 * The configuration-time check of a target's Entra fields: undefined when they can work, else a
 * message naming the field. `env` is the plugin server's environment, where missing parts may come from.
 */
export function azureEntraConfigProblem(provider: string,
  auth: (EntraAuthFields & { readonly header_name: string | null }) | null, env: Env, prefix = ''): string | undefined {
  if (auth === null) return undefined;
  const p = (s: string) => `${prefix}auth.${s}`;
  if (!auth.azure_use_managed_identity) {
    const set = ENTRA_FIELDS.find((f) => nonEmpty(auth[f]) !== undefined);
    return set === undefined ? undefined
      : `${p(set)}: used only with auth.azure_use_managed_identity = true (Entra ID authentication is off)`;
  }
  if (provider !== 'azure') return `${p('azure_use_managed_identity')}: Entra ID authentication is for the azure provider only`;
  if (auth.header_name?.trim().toLowerCase() === 'authorization') {
    return `${p('header_name')}: 'Authorization' carries the Entra ID token when auth.azure_use_managed_identity is true; remove header_name/header_value or use api-key`;
  }
  const s = selectAzureEntraIdentity(auth, env);
  return s.ok ? undefined : `${p(s.field)}: ${s.reason}`;
}
