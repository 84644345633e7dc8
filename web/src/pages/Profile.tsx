import { Page } from '../components/Page';

export function Profile() {
  return <Page title="Profile"><p>This page is being built.</p></Page>;
}
