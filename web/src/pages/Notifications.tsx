import { Page } from '../components/Page';

export function Notifications() {
  return <Page title="Notifications"><p>This page is being built.</p></Page>;
}
