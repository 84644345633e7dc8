import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { ApiError } from './api/errors';
import { App } from './App';
import { SessionProvider } from './auth/session';
import { ToastProvider } from './components/Toasts';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Until the event stream is open (src/api/live.tsx raises it then).
      staleTime: 0,
      // A refusal (4xx) will not change by asking again; a lost connection or a 5xx may.
      retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
      // Ask even when the browser thinks it is offline: a failed request is what shows the banner
      // (src/components/ConnectionBanner.tsx), and the banner's probe brings the data back.
      networkMode: 'always',
    },
    mutations: { networkMode: 'always' },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <ToastProvider>
          <SessionProvider>
            <App />
          </SessionProvider>
        </ToastProvider>
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
