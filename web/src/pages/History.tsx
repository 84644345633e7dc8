import { Page } from '../components/Page';

export function History() {
  return <Page title="History"><p>This page is being built.</p></Page>;
}
