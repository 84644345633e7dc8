// OpenAPI 3 document at /openapi.json and Swagger UI at /docs, generated from the route schemas.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export async function registerSwagger(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Offers API',
        version: '1.0.0',
        description: 'Time-limited offers bought from a prepaid balance. Money is a decimal string ("20.00").',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          // The web app's session (/api/v1/auth/browser/): the httpOnly refresh cookie plus its CSRF header.
          browserSession: { type: 'apiKey', in: 'cookie', name: 'offers_refresh' },
          csrfToken: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token' },
        },
      },
      tags: [
        { name: 'auth' },
        { name: 'offers' },
        { name: 'account' },
        { name: 'activation' },
        { name: 'admin' },
        { name: 'notifications' },
        { name: 'health' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
