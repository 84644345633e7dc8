// A page that fails to render (or whose code cannot be fetched, after a new release) says so in
// words instead of leaving a blank screen.
import { Component, type ErrorInfo, type ReactNode } from 'react';
import { Alert } from './Alert';
import { Button } from './Button';

interface State {
  failed: boolean;
}

export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { failed: false };

  static getDerivedStateFromError(): State {
    return { failed: true };
  }

  override componentDidCatch(_error: Error, _info: ErrorInfo): void {
    // Nothing to send anywhere: the message below is what the person needs.
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <Alert>
        <p>Something went wrong while showing this page.</p>
        <Button variant="secondary" onClick={() => window.location.reload()}>
          Reload the page
        </Button>
      </Alert>
    );
  }
}
