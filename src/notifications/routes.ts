// The in-app feed (GET /api/v1/notifications/, POST /api/v1/notifications/read/) and the email
// settings (GET/PATCH /api/v1/account/notification-settings/).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireUser } from '../auth/guard.js';
import { errors } from '../http/schemas.js';
import type { EmailSettings } from './domain.js';
import {
  MarkReadBody,
  MarkReadResult,
  NotificationListQuery,
  NotificationPage,
  NotificationSettings,
  NotificationSettingsPatch,
} from './schemas.js';
import { changeEmailSettings, emailSettings, markNotificationsRead, notificationPage } from './service.js';

const security = [{ bearer: [] }];
const tags = ['notifications'];

const notificationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/v1/notifications/', {
    onRequest: requireUser,
    schema: { tags, security, querystring: NotificationListQuery, response: { 200: NotificationPage, ...errors(400, 401) } },
  }, async (request) => notificationPage(app.db, request.user.userId, request.query));

  app.post('/api/v1/notifications/read/', {
    onRequest: requireUser,
    schema: { tags, security, body: MarkReadBody, response: { 200: MarkReadResult, ...errors(400, 401) } },
  }, async (request) => markNotificationsRead(app.db, request.user.userId, request.body));

  app.get('/api/v1/account/notification-settings/', {
    onRequest: requireUser,
    schema: { tags, security, response: { 200: NotificationSettings, ...errors(401) } },
  }, async (request) => emailSettings(app.db, request.user.userId));

  app.patch('/api/v1/account/notification-settings/', {
    onRequest: requireUser,
    schema: { tags, security, body: NotificationSettingsPatch, response: { 200: NotificationSettings, ...errors(400, 401) } },
  }, async (request) => changeEmailSettings(app.db, request.user.userId, request.body.email as Partial<EmailSettings>));
};

export default notificationRoutes;
