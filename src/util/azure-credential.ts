/**
 * The @azure/identity credential named by RECOVER_AZURE_CREDENTIAL, for Blob Storage and Azure
 * Resource Manager alike: DefaultAzureCredential by default, or one named credential.
 */
import type { TokenCredential } from '@azure/core-auth';

export interface CredentialChoice {
  /** default, managed-identity, workload-identity, azure-cli or environment. */
  credential: string;
  managedIdentityClientId?: string;
}

export async function tokenCredential(choice: CredentialChoice): Promise<TokenCredential> {
  // Imported lazily: @azure/identity is large and the WAL hooks never need it.
  const identity = await import('@azure/identity');
  switch (choice.credential) {
    case 'managed-identity':
      return choice.managedIdentityClientId
        ? new identity.ManagedIdentityCredential({ clientId: choice.managedIdentityClientId })
        : new identity.ManagedIdentityCredential();
    case 'workload-identity':
      return new identity.WorkloadIdentityCredential();
    case 'azure-cli':
      return new identity.AzureCliCredential();
    case 'environment':
      return new identity.EnvironmentCredential();
    default:
      return new identity.DefaultAzureCredential();
  }
}
