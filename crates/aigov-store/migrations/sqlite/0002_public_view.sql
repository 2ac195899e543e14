-- The public view of a registered system, maintained by the registry on every change, so that
-- public reads never decode the full classification.
ALTER TABLE systems ADD COLUMN public_view TEXT;
