import { Type } from 'typebox';
import { EVENT_TYPES } from '../services/events.js';

export const EventTypeSchema = Type.Union(EVENT_TYPES.map((type) => Type.Literal(type)));

export const WebhookEndpointInput = Type.Object(
  {
    url: Type.String({ minLength: 8, maxLength: 2048 }),
    /** Event types to receive; empty or absent = every type. */
    events: Type.Optional(
      Type.Array(EventTypeSchema, { maxItems: EVENT_TYPES.length, uniqueItems: true }),
    ),
  },
  { additionalProperties: false },
);

export const WebhookEndpoint = Type.Object({
  id: Type.String(),
  /** The vendor whose events it receives; null = the operator's endpoint (every event). */
  vendorId: Type.Union([Type.String(), Type.Null()]),
  url: Type.String(),
  events: Type.Array(Type.String()),
  active: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  pending: Type.Integer(),
  delivered: Type.Integer(),
  failed: Type.Integer(),
});

export const CreatedWebhookEndpoint = Type.Object({
  endpoint: WebhookEndpoint,
  /** whsec_…: shown once, now. Verify every delivery with it (Standard Webhooks). */
  secret: Type.String(),
});

export const WebhookMessage = Type.Object({
  id: Type.String(),
  type: Type.String(),
  attempts: Type.Integer(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  nextAttemptAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  deliveredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  failedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

export const WebhookEndpointId = Type.String({ pattern: '^whe_[A-Za-z0-9_-]{22}$' });
