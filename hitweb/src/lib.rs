#![doc = "Web tier."]
