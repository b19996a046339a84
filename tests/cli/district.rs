//! Issue 17: the district over MQTT, with a real broker (Mosquitto, the
//! shipped ACL and accounts made by the shipped add-box.sh) and real
//! `loa run` boxes.

use std::time::Duration;

use crate::util::mosquitto::Mosquitto;

// Issue 17: the shipped ACL lets a box publish under its own prefix only,
// read its own, its groups' and everyone's commands; the district reads
// everything and publishes commands only.
#[test]
fn the_shipped_acl_keeps_each_box_to_its_own_topics() {
    if !Mosquitto::available("the_shipped_acl_keeps_each_box_to_its_own_topics") {
        return;
    }
    let m = Mosquitto::start(&[("xa-a", &["ven-bien"]), ("xa-b", &[])]);
    let wait = Duration::from_secs(2);
    // Retained, so that a later subscriber sees what got through.
    assert_eq!(m.publish("xa-a", "loa/xa-a/status", "{\"a\":1}", true), 0);
    m.publish("xa-a", "loa/xa-b/status", "{\"forged\":1}", true);
    m.publish("xa-a", "loa/all/cmd", "{\"forged\":1}", true);
    m.publish("district", "loa/xa-b/status", "{\"forged\":2}", true);
    m.publish("district", "loa/group/ven-bien/cmd", "{\"id\":\"g\"}", true);
    let seen = m.messages("district", "loa/#", 10, wait);
    let topics: Vec<&str> = seen.iter().map(|(t, _)| t.as_str()).collect();
    assert!(topics.contains(&"loa/xa-a/status"), "{seen:?}");
    assert!(topics.contains(&"loa/group/ven-bien/cmd"), "{seen:?}");
    assert!(
        !seen.iter().any(|(_, p)| p.contains("forged")),
        "the broker let a forged message through: {seen:?}\n{}",
        m.output()
    );
    // Groups: xa-a reads ven-bien's commands, xa-b does not.
    assert_eq!(
        m.messages("xa-a", "loa/group/ven-bien/cmd", 1, wait).len(),
        1
    );
    assert!(
        m.messages("xa-b", "loa/group/ven-bien/cmd", 1, wait)
            .is_empty()
    );
    // A box cannot read another's status.
    assert!(m.messages("xa-b", "loa/xa-a/status", 1, wait).is_empty());
}
