import { Page } from '../components/Page';

export function Offers() {
  return <Page title="Offers"><p>This page is being built.</p></Page>;
}
