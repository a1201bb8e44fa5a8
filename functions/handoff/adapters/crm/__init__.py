"""CRM intake adapters: Salesforce (Event Relay + REST/SOQL) and HubSpot (webhooks + CRM v3 API),
one adapter per CRM, each reading the records a won deal needs and writing the project back."""
