import { Component, type ErrorInfo, type ReactNode } from 'react';
import { Icon } from './icon';

interface ErrorBoundaryProps {
  /** Where the failure happened, as the message names it ("the Images view"). */
  scope: string;
  children: ReactNode;
}

interface ErrorBoundaryState {
  error: Error | null;
}

/** Catches a render failure below it and shows what broke with a way to try again, never a blank screen. */
export class ErrorBoundary extends Component<ErrorBoundaryProps, ErrorBoundaryState> {
  override state: ErrorBoundaryState = { error: null };

  static getDerivedStateFromError(error: unknown): ErrorBoundaryState {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error(`berth: ${this.props.scope} failed to render`, error, info.componentStack);
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div className="state-panel state-panel-error" role="alert" data-testid="error-boundary">
        <Icon name="alert" className="state-icon" />
        <h2>Something went wrong in {this.props.scope}</h2>
        <p className="state-detail">{error.message}</p>
        <button type="button" className="button" onClick={() => this.setState({ error: null })}>
          Try again
        </button>
      </div>
    );
  }
}
