// Names for the generated types the pages use, so a change of the API's schemas breaks the build.
import type { paths } from './schema';

type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : never;
type Success<O> = O extends { responses: infer R }
  ? 200 extends keyof R ? JsonOf<R[200]> : 201 extends keyof R ? JsonOf<R[201]> : 202 extends keyof R ? JsonOf<R[202]> : never
  : never;

/** The JSON body of a path's successful answer. */
export type ResponseOf<P extends keyof paths, M extends keyof paths[P]> = Success<paths[P][M]>;

export type Profile = ResponseOf<'/api/v1/auth/profile/', 'get'>;
export type Account = ResponseOf<'/api/v1/account/', 'get'>;
export type Offer = ResponseOf<'/api/v1/offers/{id}/', 'get'>;
export type OfferPage = ResponseOf<'/api/v1/offers/', 'get'>;
export type Subscription = ResponseOf<'/api/v1/account/subscriptions/{id}/', 'patch'>;
export type Transaction = ResponseOf<'/api/v1/account/transactions/{transaction_id}/', 'get'>;
export type TransactionPage = ResponseOf<'/api/v1/account/transactions/', 'get'>;
export type ActivationStatus = ResponseOf<'/api/v1/activation/status/{transaction_id}/', 'get'>;
export type NotificationPage = ResponseOf<'/api/v1/notifications/', 'get'>;
export type Notification = NotificationPage['results'][number];
export type NotificationSettings = ResponseOf<'/api/v1/account/notification-settings/', 'get'>;
