/** One app: its tabs, each a panel that reads and changes the app through the public API. */
import { AccessPanel } from './panels/access';
import { AddonsPanel } from './panels/addons';
import { ConfigPanel } from './panels/config';
import { DeployPanel } from './panels/deploy';
import { LogsPanel } from './panels/logs';
import { OverviewPanel } from './panels/overview';
import { ReleasesPanel } from './panels/releases';

const TABS: [string, string][] = [
  ['overview', 'Overview'],
  ['deploy', 'Deploy'],
  ['releases', 'Releases'],
  ['config', 'Config vars'],
  ['addons', 'Add-ons'],
  ['logs', 'Logs'],
  ['access', 'Access'],
];

/** The app page. */
export function AppPage({ app, tab }: { app: string; tab: string }) {
  const base = `#/apps/${encodeURIComponent(app)}`;
  return (
    <>
      <h1>
        <a href="#/">Apps</a> / <span data-testid="app-name">{app}</span>
      </h1>
      <nav class="tabs">
        {TABS.map(([id, label]) => (
          <a key={id} href={`${base}/${id}`} class={tab === id ? 'active' : ''} data-tab={id}>
            {label}
          </a>
        ))}
      </nav>
      {tab === 'deploy' ? (
        <DeployPanel app={app} />
      ) : tab === 'releases' ? (
        <ReleasesPanel app={app} />
      ) : tab === 'config' ? (
        <ConfigPanel app={app} />
      ) : tab === 'addons' ? (
        <AddonsPanel app={app} />
      ) : tab === 'logs' ? (
        <LogsPanel app={app} />
      ) : tab === 'access' ? (
        <AccessPanel app={app} />
      ) : (
        <OverviewPanel app={app} />
      )}
    </>
  );
}
