// What global-setup.ts tells the tests about the servers it started.
export type ServerName = 'embedded' | 'failing' | 'postgres';

export interface ServerInfo {
  url: string;
  admin: { username: string; password: string };
}

export function serverInfo(name: ServerName): ServerInfo {
  const servers = JSON.parse(process.env.E2E_SERVERS ?? '{}') as Partial<Record<ServerName, ServerInfo>>;
  const info = servers[name];
  if (!info) throw new Error(`server ${name} was not started (see test/e2e/global-setup.ts)`);
  return info;
}
