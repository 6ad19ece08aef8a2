// Search attributes the project registers on every namespace it uses. Workflows set them, the
// UI and `temporal workflow list --query` filter on them. Safe to import from workflow code.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Which product area a workflow belongs to ("health", "request-run", …). */
export const FleetDomain = defineSearchAttributeKey('FleetDomain', SearchAttributeType.KEYWORD);
/** A short, domain-specific status the workflow keeps current ("checking", "healthy", …). */
export const FleetStatus = defineSearchAttributeKey('FleetStatus', SearchAttributeType.KEYWORD);

export const projectSearchAttributes = [FleetDomain, FleetStatus];
